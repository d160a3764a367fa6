"""``activejob jobs blocked`` and the blocked jobs in ``jobs list`` (flow: concurrency):
the real command in a subprocess against a real SQLite file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from activejob.storage.concurrency import ConcurrencySlot
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.acceptance.test_cli_jobs import activejob_cli


def test_blocked_keys_and_jobs_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    storage = SQLiteStorage(path)
    storage.migrate()
    slot = ConcurrencySlot("Charge/42", 1, 600.0)
    holder, waiting = (dataclasses.replace(new_job("billing"), concurrency=(slot,)) for _ in "ab")
    storage.push([holder, waiting])
    storage.close()
    url = f"sqlite:///{path}"

    result = activejob_cli("jobs", "blocked", "--adapter", url, "--json")
    assert result.returncode == 0, result.stderr
    [key] = json.loads(result.stdout)["keys"]
    assert key == {
        "key": "Charge/42",
        "waiting": 1,
        "capped": False,
        "limit": 1,
        "taken": 1,
        "holders": [holder.job_id],
    }
    table = activejob_cli("jobs", "blocked", "--adapter", url).stdout
    assert "Charge/42" in table and "1 of 1" in table and holder.job_id in table

    listing = activejob_cli("jobs", "list", "--state", "blocked", "--adapter", url).stdout
    assert waiting.job_id in listing and "blocked by Charge/42" in listing
    shown = activejob_cli("jobs", "list", "--state", "blocked", "--adapter", url, "--json")
    assert [job["blocked_by"] for job in json.loads(shown.stdout)] == ["Charge/42"]

    discarded = activejob_cli("jobs", "discard", waiting.job_id, "--adapter", url, "--json")
    assert json.loads(discarded.stdout)["discarded"] == 1
    after = activejob_cli("jobs", "blocked", "--adapter", url, "--json")
    assert json.loads(after.stdout)["keys"] == []
