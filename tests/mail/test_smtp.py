"""SMTP delivery against a real server (aiosmtpd, started by each test): STARTTLS
and AUTH, implicit TLS, transient failures retried, permanent ones failing at
once with the server's reply, one connection per job."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import trustme

import activejob.mail
from activejob.adapters.test import TestAdapter
from activejob.mail import PermanentDeliveryError, TransientDeliveryError
from activejob.testing import assert_enqueued_jobs, perform_enqueued_jobs
from tests.mail.mailers import USERS, NewsletterJob, User, UserMailer
from tests.mail.smtp_server import PASSWORD, USER, closed_port, silent_server, smtp_server

CA = tuple[trustme.CA, Path]


@pytest.fixture
def ada() -> User:
    USERS[1] = ("Ada", "ada@example.com")
    return User(1, "Ada", "ada@example.com")


def test_starttls_and_auth_deliver_a_multipart_message(ca: CA, ada: User) -> None:
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        activejob.mail.configure(url=server.url(user=USER, password=PASSWORD, starttls="true"))
        UserMailer.welcome(ada).deliver_now()
    (received,) = server.received
    assert received.sender == "shop@example.com"
    assert sorted(received.recipients) == ["ada@example.com", "archive@example.com"]
    message = received.message
    assert message["Bcc"] is None  # the Bcc recipient gets it, the header is not sent
    assert message["Subject"] == "Welcome, Ada"
    html = message.get_body(("html",))
    assert html is not None and "<b>Ada</b>" in html.get_content()


def test_starttls_auto_uses_tls_when_the_server_offers_it(ca: CA, ada: User) -> None:
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:  # requires STARTTLS
        activejob.mail.configure(url=server.url(user=USER, password=PASSWORD))
        UserMailer.welcome(ada).deliver_now()
    assert len(server.received) == 1


def test_a_wrong_password_fails_at_once_with_the_reply(ca: CA, ada: User) -> None:
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        activejob.mail.configure(url=server.url(user=USER, password="wrong", starttls="true"))
        with pytest.raises(PermanentDeliveryError, match="535") as info:
            UserMailer.welcome(ada).deliver_now()
    assert "wrong" not in str(info.value) and "***" in str(info.value)
    assert server.received == []


def test_the_password_is_never_sent_unencrypted(ada: User) -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url(user=USER, password=PASSWORD, starttls="false"))
        with pytest.raises(PermanentDeliveryError, match="not encrypted"):
            UserMailer.welcome(ada).deliver_now()


def test_an_untrusted_certificate_fails_at_once(ca: CA, ada: User) -> None:
    with smtp_server(tls="starttls", ca=ca) as server:
        # The system's CAs do not know the test's throwaway CA.
        activejob.mail.configure(url=f"smtp://127.0.0.1:{server.port}?starttls=true")
        with pytest.raises(PermanentDeliveryError, match="certificate"):
            UserMailer.welcome(ada).deliver_now()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_implicit_tls(ca: CA, ada: User) -> None:
    with smtp_server(tls="implicit", auth=True, ca=ca) as server:
        url = server.url(user=USER, password=PASSWORD)
        assert url.startswith("smtps://")
        activejob.mail.configure(url=url)
        UserMailer.welcome(ada).deliver_now()
    assert [r.message["Subject"] for r in server.received] == ["Welcome, Ada"]


def test_a_4xx_is_retried_with_backoff_then_delivered(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url())
        server.script.append("451 4.3.0 Mailbox busy, try again later")
        UserMailer.welcome(ada).deliver_later()
        perform_enqueued_jobs(at=timedelta(seconds=1))  # fails, a retry is enqueued
        assert server.received == []
        (retry,) = assert_enqueued_jobs(1)
        assert retry.payload["executions"] == 1
        assert retry.at is not None  # polynomially_longer: 3s and more, not at once
        assert perform_enqueued_jobs(at=timedelta(seconds=1)) == 0
        assert perform_enqueued_jobs(at=timedelta(minutes=1)) == 1
    (received,) = server.received
    assert received.message["Subject"] == "Welcome, Ada"


def test_a_5xx_fails_at_once_with_the_servers_reply(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url())
        server.script.append("554 5.7.1 Message rejected as spam")
        UserMailer.welcome(ada).deliver_later()
        with pytest.raises(PermanentDeliveryError, match=r"554 5\.7\.1 Message rejected as spam"):
            perform_enqueued_jobs()
        assert activejob_test_adapter.enqueued_jobs == []  # no retry
    assert server.received == []


def test_refused_recipients_fail_at_once_naming_each(ada: User) -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url())
        server.recorder.refuse["ada@example.com"] = "550 5.1.1 No such user"
        server.recorder.refuse["archive@example.com"] = "550 5.1.1 Archive gone"
        with pytest.raises(PermanentDeliveryError) as info:
            UserMailer.welcome(ada).deliver_now()
    assert "ada@example.com: 550 5.1.1 No such user" in str(info.value)
    assert info.value.code == 550


def test_a_connection_dropped_mid_message_is_retried_and_nothing_is_lost(
    activejob_test_adapter: TestAdapter, ada: User
) -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url())
        server.script.append("drop")
        UserMailer.welcome(ada).deliver_later()
        perform_enqueued_jobs(at=timedelta(seconds=1))
        assert server.received == [] and len(activejob_test_adapter.enqueued_jobs) == 1
        perform_enqueued_jobs(at=timedelta(minutes=1))
    assert [r.message["Subject"] for r in server.received] == ["Welcome, Ada"]


def test_a_timeout_is_transient() -> None:
    with silent_server() as port:
        activejob.mail.configure(url=f"smtp://127.0.0.1:{port}?timeout=200ms")
        with pytest.raises(TransientDeliveryError, match="timed out"):
            UserMailer.typed("ada@example.com").deliver_now()


def test_an_unreachable_server_is_transient() -> None:
    activejob.mail.configure(url=f"smtp://127.0.0.1:{closed_port()}?timeout=2s")
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        UserMailer.typed("ada@example.com").deliver_now()


def test_one_connection_for_all_messages_of_one_job(ca: CA) -> None:
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        activejob.mail.configure(url=server.url(user=USER, password=PASSWORD))
        NewsletterJob.perform_now([f"reader{i}@example.com" for i in range(3)])
        assert len(server.received) == 3
        assert server.recorder.connections_used() == 1
        # Outside a job each message has its own connection, unless grouped:
        UserMailer.typed("x@example.com").deliver_now()
        UserMailer.typed("y@example.com").deliver_now()
        assert server.recorder.connections_used() == 3
        with activejob.mail.connection():
            UserMailer.typed("x@example.com").deliver_now()
            UserMailer.typed("y@example.com").deliver_now()
        assert server.recorder.connections_used() == 4
    assert len(server.received) == 7


def test_a_failed_connection_is_not_reused_by_the_next_message_of_the_job() -> None:
    with smtp_server() as server:
        activejob.mail.configure(url=server.url())
        server.script.append("drop")
        with activejob.mail.connection(), pytest.raises(TransientDeliveryError):
            UserMailer.typed("x@example.com").deliver_now()
        with activejob.mail.connection():
            server.script.append("drop")
            with pytest.raises(TransientDeliveryError):
                UserMailer.typed("x@example.com").deliver_now()
            UserMailer.typed("y@example.com").deliver_now()  # a fresh connection
    assert [r.recipients[0] for r in server.received] == ["y@example.com"]
