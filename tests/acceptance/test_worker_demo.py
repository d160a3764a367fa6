"""`make demo` runs: jobs of every kind go through the worker on SQLite, the same every time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_demo(where: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "demo.py"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def summary_rows(output: str) -> dict[str, list[tuple[str, str]]]:
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in output.splitlines():
        match = re.match(r"\s+(\w+Job|send_welcome_email)\s+\S+\s+(\w+)\s+(\d+)\s", line)
        if match:
            rows.setdefault(match[1], []).append((match[2], match[3]))
    return rows


def test_demo_runs_every_kind_of_job_and_twice_the_same(tmp_path: Path) -> None:
    # A copy, so its database does not meet another run's in examples/.
    for name in ("demo.py", "demo_jobs.py"):
        shutil.copy(ROOT / "examples" / name, tmp_path / name)
    for _ in range(2):  # it recreates its database, so a second run is the same
        output = run_demo(tmp_path)
        rows = summary_rows(output)
        assert rows == {
            "ChargeCardJob": [("succeeded", "3")],
            "send_welcome_email": [("succeeded", "1")],
            "ResizeImageJob": [("succeeded", "1"), ("succeeded", "1")],
            "FetchFeedJob": [("succeeded", "1")],
            "SendReminderJob": [("succeeded", "1")],
            "ImportCsvJob": [("failed", "1")],
            "MailDeliveryJob": [("succeeded", "1")],
        }, output
        assert "8 jobs: 7 succeeded, 1 kept as failed." in output
        assert "on event loop" in output and "retry    ChargeCardJob" in output
        assert "ValueError: orders.csv: row 3 has no date" in output
        assert "ShopMailer.welcome and delivered this mail" in output
        assert "To: Ada <ada@example.com>" in output
        assert "Subject: Welcome to the shop, Ada" in output
        assert "<p>Hello <b>Ada</b>, your account is ready.</p>" in output
