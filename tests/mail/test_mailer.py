"""Mailers build multipart messages with the standard ``email`` package; actions
run lazily, and in the delivery job when delivered later."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage

import pytest

import activejob
import activejob.mail
from activejob.adapters.test import TestAdapter
from activejob.errors import ConfigurationError, DeserializationError
from activejob.mail import MailDeliveryJob, MessageDelivery, MessageDeliveryJob
from activejob.testing import assert_enqueued_with, perform_enqueued_jobs
from tests.mail.mailers import USERS, NewsletterJob, TemplateMailer, User, UserMailer


@pytest.fixture
def ada() -> User:
    USERS[1] = ("Ada", "ada@example.com")
    return User(1, "Ada", "ada@example.com")


def test_action_on_the_class_is_lazy_and_builds_multipart_with_class_defaults(ada: User) -> None:
    delivery = UserMailer.welcome(ada)
    assert isinstance(delivery, MessageDelivery)
    message = delivery.message
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["To"] == "Ada <ada@example.com>"
    assert message["Reply-To"] == "help@example.com"
    assert message["Bcc"] == "archive@example.com"
    assert message["X-Mailer"] == "activejob-tests"
    assert message["Message-ID"].endswith("@example.com>") and message["Date"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and "Prix: 10 €" in plain.get_content()
    assert html is not None and "<b>Ada</b>" in html.get_content()
    # 7-bit clean on the wire: the euro sign is encoded, not sent as 8-bit bytes.
    assert all(byte < 128 for byte in message.as_bytes())


def test_attachments_cc_and_headers(ada: User) -> None:
    message = UserMailer.invoice(ada, 7).message
    assert message is not None
    assert message.get_content_type() == "multipart/mixed"
    assert message["Cc"] == "accounts@example.com" and message["X-Invoice"] == "7"
    parts = {part.get_filename(): part for part in message.iter_attachments()}
    assert parts["invoice-7.pdf"].get_content_type() == "application/pdf"
    assert parts["invoice-7.pdf"].get_content() == b"%PDF-1.4 fake\x00\xff"
    assert parts["notes.txt"].get_content().strip() == "thank you"


def test_html_only_and_explicit_action_decorator() -> None:
    message = UserMailer.typed("bob@example.com").message
    assert message is not None and message.get_content_type() == "text/html"


def test_action_that_does_not_call_mail_delivers_nothing(
    activejob_test_adapter: TestAdapter,
) -> None:
    assert UserMailer.maybe(False).deliver_now() is None
    UserMailer.maybe(False).deliver_later()
    perform_enqueued_jobs()
    assert activejob.mail.deliveries == []
    UserMailer.maybe(True).deliver_now()
    assert [m["Subject"] for m in activejob.mail.deliveries] == ["Sent"]


def test_an_action_called_on_an_instance_is_a_plain_method(ada: User) -> None:
    mailer = UserMailer("welcome")
    message = mailer.welcome(ada)
    assert isinstance(message, EmailMessage) and mailer.message is message


def test_deliver_later_enqueues_the_action_on_mailers_with_json_arguments(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    job = UserMailer.welcome(ada).deliver_later()
    assert isinstance(job, MailDeliveryJob) and job.queue_name == "mailers"
    (recorded,) = activejob_test_adapter.enqueued_jobs
    payload = recorded.payload
    assert json.loads(json.dumps(payload)) == payload
    assert payload["arguments"][:2] == ["tests.mail.mailers.UserMailer", "welcome"]
    assert "gid://activejob/MailTestUser/1" in json.dumps(payload["arguments"])
    assert activejob.mail.deliveries == []  # nothing built or sent at enqueue


def test_the_action_runs_in_the_job_with_the_record_loaded_fresh(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    UserMailer.welcome(ada).deliver_later()
    USERS[1] = ("Ada Lovelace", "ada@example.com")  # changed after the enqueue
    perform_enqueued_jobs()
    (message,) = activejob.mail.deliveries
    assert message["Subject"] == "Welcome, Ada Lovelace"


def test_deliver_later_options(activejob_test_adapter: TestAdapter, ada: User) -> None:
    UserMailer.welcome(ada).deliver_later(wait=timedelta(hours=1), queue="bulk", priority=5)
    assert_enqueued_with(job=MailDeliveryJob, queue="bulk", priority=5, at=timedelta(hours=1))
    assert perform_enqueued_jobs(at=timedelta(minutes=1)) == 0  # not due yet
    assert perform_enqueued_jobs(at=timedelta(hours=2)) == 1
    assert len(activejob.mail.deliveries) == 1


def test_class_level_queue_and_priority_for_deliver_later(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    class UrgentMailer(UserMailer):
        deliver_later_queue = "urgent"
        deliver_later_priority = 1

    job = UrgentMailer.welcome(ada).deliver_later()
    assert (job.queue_name, job.priority) == ("urgent", 1)


def test_deliver_later_after_reading_the_message_is_refused(ada: User) -> None:
    delivery = UserMailer.welcome(ada)
    assert delivery.message is not None
    with pytest.raises(RuntimeError, match="already built here"):
        delivery.deliver_later()


def test_deliver_later_any_email_message_travels_as_rfc5322_text(
    activejob_test_adapter: TestAdapter,
) -> None:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "ada@example.com"
    message["Subject"] = "Grüße"
    message.set_content("Hallo, schöne Grüße")
    job = activejob.mail.deliver_later(message, wait=30)
    assert isinstance(job, MessageDeliveryJob)
    (recorded,) = activejob_test_adapter.enqueued_jobs
    text = recorded.payload["arguments"][0]
    assert isinstance(text, str) and "Subject: " in text and "\r\n" in text
    perform_enqueued_jobs(at=timedelta(minutes=1))
    (delivered,) = activejob.mail.deliveries
    assert delivered["Subject"] == "Grüße"
    assert delivered["Message-ID"].endswith("@example.com>") and delivered["Date"]
    assert message["Message-ID"] is None  # added to the job's copy only
    assert delivered.get_content().strip() == "Hallo, schöne Grüße"


def test_templates_render_with_jinja2_and_autoescape() -> None:
    USERS[2] = ("<Bob>", "bob@example.com")
    message = TemplateMailer.receipt(User(2, "<Bob>", "bob@example.com"), 42).message
    assert message is not None
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Dear <Bob>, you paid 42 EUR."
    assert html is not None and "Dear &lt;Bob&gt;, you paid <b>42</b>" in html.get_content()


def test_a_missing_template_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"no template .*template_mailer/missing"):
        TemplateMailer.missing().deliver_now()


def test_no_sender_is_a_clear_error() -> None:
    class NoSender(activejob.mail.Mailer):
        def hello(self) -> None:
            self.mail(to="ada@example.com", text="hi")

    with pytest.raises(ConfigurationError, match="default_from"):
        NoSender.hello().deliver_now()


def test_unknown_mailer_or_action_in_a_payload_fails_the_job_clearly(
    activejob_test_adapter: TestAdapter,
) -> None:
    MailDeliveryJob.perform_later("nowhere.GoneMailer", "welcome", [], {})
    with pytest.raises(
        DeserializationError, match=r"unknown mailer .nowhere\.GoneMailer.*--import"
    ):
        perform_enqueued_jobs()
    MailDeliveryJob.perform_later("tests.mail.mailers.UserMailer", "mail", [], {})
    with pytest.raises(DeserializationError, match="has no action 'mail'"):
        perform_enqueued_jobs()


def test_no_recipients_fails_at_once() -> None:
    activejob.mail.configure(url="test:")
    message = activejob.mail.build_message(sender="shop@example.com", subject="x", text="y")
    with pytest.raises(activejob.mail.PermanentDeliveryError, match="no recipients"):
        activejob.mail.deliver_now(message)


def test_a_job_sending_mail_from_perform(activejob_test_adapter: TestAdapter) -> None:
    NewsletterJob.perform_now(["a@example.com", "b@example.com"])
    assert [m["To"] for m in activejob.mail.deliveries] == ["a@example.com", "b@example.com"]


def test_delivery_jobs_are_found_by_a_worker_that_imported_only_the_mailers() -> None:
    from activejob.job import registry

    assert registry.lookup("activejob.mail.delivery.MessageDeliveryJob") is MessageDeliveryJob


def test_adeliver_later_for_async_code(activejob_test_adapter: TestAdapter, ada: User) -> None:
    import asyncio

    job = asyncio.run(UserMailer.welcome(ada).adeliver_later(queue="async_mail"))
    assert job.successfully_enqueued and job.queue_name == "async_mail"
    perform_enqueued_jobs()
    assert [m["Subject"] for m in activejob.mail.deliveries] == ["Welcome, Ada"]
