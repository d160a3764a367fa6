"""Delivery by URL: every form parsed, typos refused at configure with a clear
ConfigurationError, passwords never shown."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme

import activejob.mail
from activejob.config import get_config
from activejob.errors import ConfigurationError
from activejob.mail.deliveries import from_url
from activejob.mail.deliveries.console import ConsoleDelivery
from activejob.mail.deliveries.smtp import SmtpDelivery
from activejob.mail.deliveries.test import TestDelivery
from activejob.mail.settings import OPTION, current_delivery
from tests.mail.mailers import UserMailer
from tests.mail.smtp_server import PASSWORD, USER, smtp_server


def test_smtp_url_with_starttls_auth_and_timeout() -> None:
    delivery = from_url(
        "smtp://ada%40shop:p%40ss%3Aword@mail.example.com:587?starttls=true&timeout=5s"
    )
    assert isinstance(delivery, SmtpDelivery)
    assert (delivery.host, delivery.port, delivery.starttls) == ("mail.example.com", 587, "true")
    assert (delivery.username, delivery._password) == ("ada@shop", "p@ss:word")
    assert delivery.timeout == 5.0 and not delivery.implicit_tls


def test_smtps_defaults_to_port_465_and_smtp_to_25() -> None:
    smtps = from_url("smtps://mail.example.com")
    smtp = from_url("smtp://mail.example.com")
    assert isinstance(smtps, SmtpDelivery) and isinstance(smtp, SmtpDelivery)
    assert (smtps.port, smtps.implicit_tls, smtp.port, smtp.starttls) == (465, True, 25, "auto")


def test_console_and_test_urls() -> None:
    assert isinstance(from_url("console:"), ConsoleDelivery)
    assert from_url("console:?stream=stderr").stream == "stderr"  # type: ignore[attr-defined]
    assert isinstance(from_url("test:"), TestDelivery)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smpt://mail.example.com", "unknown mail URL scheme smpt:"),
        ("mail.example.com", "unknown mail URL scheme"),
        ("smtp://mail.example.com?startls=true", "unknown setting(s) startls"),
        ("smtp://mail.example.com?starttls=maybe", "bad starttls='maybe'"),
        ("smtp://mail.example.com?timeout=soon", "bad timeout='soon'"),
        ("smtp://mail.example.com:99999", "bad port"),
        ("smtp://:25", "names no host"),
        ("smtps://mail.example.com?starttls=true", "TLS from the start"),
        ("smtp://mail.example.com?ca_file=/nonexistent/ca.pem", "bad ca_file"),
        ("console:?stream=printer", "bad stream"),
        ("test:?x=1", "unknown setting(s) x"),
    ],
)
def test_a_typo_is_a_clear_configuration_error_at_configure(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(says)):
        activejob.mail.configure(url=url)


def test_the_password_is_masked_in_repr_and_errors() -> None:
    url = "smtp://ada:hunter2@mail.example.com:587?startls=true"
    with pytest.raises(ConfigurationError) as info:
        activejob.mail.configure(url=url)
    assert "hunter2" not in str(info.value) and "ada:***@" in str(info.value)
    delivery = from_url(url.replace("startls", "starttls"))
    assert "hunter2" not in repr(delivery) and "ada:***@mail.example.com" in repr(delivery)


def test_the_delivery_log_line_masks_the_password(
    caplog: pytest.LogCaptureFixture, ca: tuple[trustme.CA, Path]
) -> None:
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        activejob.mail.configure(url=server.url(user=USER, password=PASSWORD))
        assert quote(PASSWORD, safe="") not in repr(current_delivery())
        with caplog.at_level(logging.INFO, logger="activejob.mail"):
            UserMailer.typed("bob@example.com").deliver_now()
    assert len(server.received) == 1
    assert "delivered mail <" in caplog.text and "ada:***@127.0.0.1" in caplog.text
    assert PASSWORD not in caplog.text and quote(PASSWORD, safe="") not in caplog.text


def test_no_mail_url_is_a_clear_error_naming_both_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIVEJOB_MAIL_URL", raising=False)
    with pytest.raises(ConfigurationError, match=r"ACTIVEJOB_MAIL_URL.*configure"):
        UserMailer.typed("bob@example.com").deliver_now()


def test_the_environment_variable_names_the_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVEJOB_MAIL_URL", "test:")
    UserMailer.typed("bob@example.com").deliver_now()
    assert len(activejob.mail.deliveries) == 1


def test_console_prints_the_message_readably(capsys: pytest.CaptureFixture[str]) -> None:
    activejob.mail.configure(url="console:")
    UserMailer.typed("bob@example.com").deliver_now()
    out = capsys.readouterr().out
    assert "mail from shop@example.com to bob@example.com, archive@example.com" in out
    assert "Subject: Typed" in out and "<p>only html</p>" in out


def test_import_activejob_does_not_import_mail_or_smtplib() -> None:
    code = "import sys, activejob; print('smtplib' in sys.modules, 'activejob.mail' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_typo_in_the_environment_fails_the_delivery_job_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from activejob.testing import perform_enqueued_jobs, use_test_adapter

    with use_test_adapter() as adapter:
        get_config().options.pop(OPTION, None)  # no configure(): the environment decides
        monkeypatch.setenv("ACTIVEJOB_MAIL_URL", "smtp://ada:hunter2@mail.example.com?tls=yes")
        UserMailer.typed("bob@example.com").deliver_later()
        with pytest.raises(ConfigurationError, match=r"unknown setting\(s\) tls") as info:
            perform_enqueued_jobs()
        assert "hunter2" not in str(info.value)
        assert adapter.enqueued_jobs == []  # a typo is not retried
