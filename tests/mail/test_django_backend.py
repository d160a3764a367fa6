"""``EMAIL_BACKEND = "activejob.contrib.django.mail.EmailBackend"``: every Django
email becomes one delivery job, its message carried as RFC 5322 text.

Django's settings are process-wide, so the Django project runs in its own
process (a minimal ``settings.configure()``), as a user's would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROJECT = """
import json

import django
from django.conf import settings

settings.configure(
    EMAIL_BACKEND="activejob.contrib.django.mail.EmailBackend",
    ACTIVEJOB_MAIL_URL="test:",
    DEFAULT_FROM_EMAIL="shop@example.com",
)
django.setup()

import activejob.mail
from activejob.mail import MessageDeliveryJob, assert_emails, assert_enqueued_emails
from activejob.testing import perform_enqueued_jobs, use_test_adapter
from django.core import mail

report = {}
with use_test_adapter() as adapter:
    activejob.mail.configure(url=None)  # let the backend read ACTIVEJOB_MAIL_URL from settings
    report["send_mail"] = mail.send_mail(
        "Welcome", "Hello Ada, ça va ?", None, ["ada@example.com"],
        html_message="<p>Hello <b>Ada</b></p>",
    )
    message = mail.EmailMultiAlternatives(
        "Invoice", "Attached.", "billing@example.com", ["bob@example.com"],
        cc=["cc@example.com"], bcc=["audit@example.com"],
    )
    message.attach("invoice.pdf", b"%PDF-1.4 \\x00\\xff", "application/pdf")
    nobody = mail.EmailMessage("Nobody", "no recipients", None, [])
    report["send_messages"] = mail.get_connection().send_messages([message, nobody])
    assert_enqueued_emails(2)
    recorded = adapter.enqueued_jobs
    report["jobs"] = [r.job_class for r in recorded]
    report["queues"] = [r.queue_name for r in recorded]
    texts = [r.payload["arguments"][0] for r in recorded]
    report["text_is_rfc5322"] = [isinstance(t, str) and "\\r\\nSubject: " in t for t in texts]
    report["envelopes"] = [r.payload["arguments"][1:] for r in recorded]
    perform_enqueued_jobs()
    delivered = assert_emails(2)
    report["subjects"] = [m["Subject"] for m in delivered]
    report["bcc_headers"] = [m["Bcc"] for m in delivered]
    welcome, invoice = delivered
    report["welcome_html"] = welcome.get_body(("html",)).get_content()
    report["welcome_text"] = welcome.get_body(("plain",)).get_content()
    report["attachment"] = [
        (p.get_filename(), p.get_content_type(), p.get_content() == b"%PDF-1.4 \\x00\\xff")
        for p in invoice.iter_attachments()
    ]
    # With fail_silently, a message that cannot be enqueued is skipped, not raised.
    activejob.configure(adapter="sqlite:///" + "/nonexistent-dir/jobs.sqlite3")
    report["silent"] = mail.send_mail("x", "y", None, ["ada@example.com"], fail_silently=True)
    try:
        mail.send_mail("x", "y", None, ["ada@example.com"])
    except Exception as exc:
        report["loud"] = type(exc).__name__
print(json.dumps(report))
"""


def test_django_email_goes_through_one_delivery_job_per_message(tmp_path: Path) -> None:
    script = tmp_path / "project.py"
    script.write_text(textwrap.dedent(PROJECT))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    env.pop("ACTIVEJOB_ADAPTER", None)
    env.pop("ACTIVEJOB_MAIL_URL", None)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["send_mail"] == 1 and report["send_messages"] == 1  # nobody: skipped
    assert report["jobs"] == ["activejob.mail.delivery.MessageDeliveryJob"] * 2
    assert report["queues"] == ["mailers", "mailers"]
    assert report["text_is_rfc5322"] == [True, True]
    assert report["envelopes"] == [
        ["shop@example.com", ["ada@example.com"]],
        ["billing@example.com", ["bob@example.com", "cc@example.com", "audit@example.com"]],
    ]
    assert report["subjects"] == ["Welcome", "Invoice"]
    assert report["bcc_headers"] == [None, None]  # Django keeps Bcc out of the headers
    assert report["welcome_html"].strip() == "<p>Hello <b>Ada</b></p>"
    assert report["welcome_text"].strip() == "Hello Ada, ça va ?"
    assert report["attachment"] == [["invoice.pdf", "application/pdf", True]]
    assert report["silent"] == 0
    assert report["loud"] in ("ConfigurationError", "EnqueueError")
