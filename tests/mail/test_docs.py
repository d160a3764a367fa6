"""docs/mail.md shows the files of examples/mail/ as they are, and its commands run
as written (in a copy of examples/mail/, with this interpreter's tools)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import activejob.mail
from activejob.adapters.test import TestAdapter
from activejob.testing import perform_enqueued_jobs
from tests.mail.smtp_server import closed_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "mail"
DOC = ROOT / "docs" / "mail.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_python_block_is_an_example_file_as_it_is() -> None:
    files = {path.read_text(): path.name for path in EXAMPLES.glob("*.py")}
    shown = [
        files.get(block, f"(no file in examples/mail/ is)\n{block}") for block in blocks("python")
    ]
    assert shown == [
        "shop_mailers.py",
        "send_welcome.py",
        "patient_mailers.py",
        "test_shop_mailers.py",
        "django_settings.py",
        "django_send.py",
    ]


def test_the_template_shown_is_the_template_file() -> None:
    template = EXAMPLES / "templates" / "user_mailer" / "receipt.txt"
    assert template.read_text() in blocks("text")


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    (commands,) = blocks("sh")
    lines = commands.strip().splitlines()
    assert lines[0] == "cd examples/mail"
    where = tmp_path / "mail"
    shutil.copytree(EXAMPLES, where, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVEJOB_", "PYTHONPATH"))}
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines[1:])],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "3 emails enqueued" in out and "1 Django email enqueued" in out
    for subject in ("Welcome, Ada", "Your receipt", "Hi", "Your order"):
        assert f"Subject: {subject}\n" in out, out
    assert "Dear Ada, you paid 49.99 EUR" in out and "[attachment receipt.csv" in out
    assert "ran 4 jobs: 4 succeeded" in done.stderr
    assert "2 passed" in out


def test_the_patient_delivery_job_retries_every_minute(
    activejob_test_adapter: TestAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from patient_mailers import NewsletterMailer, PatientDelivery

    activejob.mail.configure(url=f"smtp://127.0.0.1:{closed_port()}?timeout=2s")
    job = NewsletterMailer.issue("ada@example.com", 12).deliver_later()
    assert isinstance(job, PatientDelivery) and job.queue_name == "mailers"
    perform_enqueued_jobs()
    (retry,) = activejob_test_adapter.enqueued_jobs
    assert retry.at is not None
    assert timedelta(seconds=retry.at - job.enqueued_at.timestamp()) > timedelta(seconds=50)
