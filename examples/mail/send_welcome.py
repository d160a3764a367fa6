"""Enqueue mail for the worker: run it, then `activejob worker --burst --import shop_mailers`."""

from datetime import timedelta
from email.message import EmailMessage

from shop_mailers import Customer, UserMailer

import activejob.mail

ada = Customer(1, "Ada", "ada@example.com")
UserMailer.welcome(ada).deliver_later()  # the mailers queue, at once
UserMailer.receipt(ada, 4999).deliver_later(wait=timedelta(seconds=1), priority=5)

note = EmailMessage()  # any EmailMessage will do
note["From"], note["To"], note["Subject"] = "ops@example.com", "grace@example.com", "Hi"
note.set_content("Delivered by a job, like the rest.")
activejob.mail.deliver_later(note)
print("3 emails enqueued")
