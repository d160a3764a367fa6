"""Testing mail: run it from examples/mail/ with `pytest test_shop_mailers.py`."""

from shop_mailers import Customer, UserMailer

import activejob.mail
from activejob.mail import assert_emails, assert_enqueued_emails, expect_emails
from activejob.testing import perform_enqueued_jobs

ada = Customer(1, "Ada", "ada@example.com")


def test_welcome_is_delivered_later(activejob_test_adapter):
    UserMailer.welcome(ada).deliver_later()
    assert_enqueued_emails(1)
    perform_enqueued_jobs()
    (message,) = assert_emails(1)
    assert message["To"] == "ada@example.com"
    assert "thanks for signing up" in message.get_body(("plain",)).get_content()


def test_receipt_comes_from_the_templates(activejob_test_adapter):
    with expect_emails(1):  # runs the block's mail jobs at once
        UserMailer.receipt(ada, 4999).deliver_later()
    message = activejob.mail.deliveries[-1]
    assert "<b>49.99 EUR</b>" in message.get_body(("html",)).get_content()
    assert [a.get_filename() for a in message.iter_attachments()] == ["receipt.csv"]
