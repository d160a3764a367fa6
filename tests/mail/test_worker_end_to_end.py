"""End to end: mail enqueued into a SQLite file, delivered by the real
``activejob worker --burst`` to a real SMTP server (STARTTLS + AUTH), a 4xx
retried by the worker on the way, and a Django email among them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme

import activejob
import activejob.mail
from activejob.config import get_config
from tests.mail.mailers import USERS, User, UserMailer
from tests.mail.smtp_server import PASSWORD, USER, smtp_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    previous = get_config().adapter
    activejob.configure(adapter=url)
    yield url
    activejob.configure(adapter=previous)


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]), **extra)
    env.pop("ACTIVEJOB_ADAPTER", None)
    return env


def enqueue_with_django(url: str, tmp_path: Path) -> None:
    """A Django project's code, in its own process: EMAIL_BACKEND is ours."""
    script = tmp_path / "django_send.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import django
            from django.conf import settings

            settings.configure(EMAIL_BACKEND="activejob.contrib.django.mail.EmailBackend")
            django.setup()

            import activejob
            from django.core.mail import EmailMessage

            activejob.configure(adapter={url!r})
            sent = EmailMessage(
                "Your order", "It ships today.", "orders@example.com",
                ["ada@example.com"], bcc=["audit@example.com"],
            ).send()
            assert sent == 1, sent
            """
        )
    )
    subprocess.run(
        [sys.executable, str(script)], env=environment(), check=True, timeout=60, cwd=tmp_path
    )


def test_worker_burst_delivers_over_smtp_with_a_retry(
    sqlite_url: str, tmp_path: Path, ca: tuple[trustme.CA, Path]
) -> None:
    USERS[1] = ("Ada", "ada@example.com")
    with smtp_server(tls="starttls", auth=True, ca=ca) as server:
        server.script.append("421 4.7.0 Too busy, come back later")  # the first DATA
        UserMailer.welcome(User(1, "Ada", "ada@example.com")).deliver_later()
        plain = EmailMessage()
        plain["From"], plain["To"], plain["Subject"] = "ops@example.com", "bob@example.com", "Plain"
        plain.set_content("any EmailMessage")
        activejob.mail.deliver_later(plain)
        enqueue_with_django(sqlite_url, tmp_path)

        worker = subprocess.run(
            [
                sys.executable, "-m", "activejob", "worker",
                "--adapter", sqlite_url,
                "--import", "tests.mail.mailers",
                "--burst", "--burst-horizon", "15", "--poll-interval", "0.05",
            ],
            cwd=ROOT,
            env=environment(
                ACTIVEJOB_MAIL_URL=server.url(user=USER, password=PASSWORD, starttls="true"),
                # The record changed after the enqueue: the worker loads it fresh.
                MAIL_TEST_USERS=json.dumps({"1": ["Ada Lovelace", "ada@example.com"]}),
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    output = worker.stdout + worker.stderr
    assert worker.returncode == 0, output
    by_subject = {r.message["Subject"]: r for r in server.received}
    assert sorted(by_subject) == ["Plain", "Welcome, Ada Lovelace", "Your order"], output
    assert len(server.received) == 3  # the refused attempt was retried once, not duplicated
    django = by_subject["Your order"]
    assert sorted(django.recipients) == ["ada@example.com", "audit@example.com"]
    assert django.message["Bcc"] is None and django.sender == "orders@example.com"
    assert "ran 4 jobs: 3 succeeded, 0 failed, 1 retried" in output, output
    assert "421 4.7.0 Too busy" in output  # the server's reply, in the retry line
    assert PASSWORD not in output and "ada:***@127.0.0.1" in output
    # A whole message in a log line would leak what it says (a password-reset link):
    assert "It ships today." not in output and "any EmailMessage" not in output
    assert '"welcome", [{"_aj": "gid"' in output  # a mailer job's arguments are just names
