"""docs/flow-control.md, "Concurrency limits", runs as written: it shows
examples/flow/concurrency/ exactly, and its commands, run from a copy of that folder
on SQLite, block, show, discard and then run one charge per account at a time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "flow-control.md"
EXAMPLES = ROOT / "examples" / "flow" / "concurrency"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Concurrency limits")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_doc_shows_the_examples_exactly() -> None:
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", section(), re.S))
    assert set(blocks) == {
        "examples/flow/concurrency/jobs.py",
        "examples/flow/concurrency/enqueue.py",
    }
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/flow-control.md is out of date for {path}"


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` as typed: ``python`` is this interpreter, ``activejob`` its script."""
    program, *args = command.split()
    if program == "python":
        executable: str | None = sys.executable
    else:
        executable = shutil.which(program, path=str(Path(sys.executable).parent))
    if executable is None:  # pragma: no cover - the dev venv installs it
        pytest.skip("the activejob script is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "concurrency"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    commands = re.findall(r"^\$ (.+)$", section(), re.M)
    assert [c.split()[:3] for c in commands] == [
        ["python", "enqueue.py"],
        ["activejob", "jobs", "list"],
        ["activejob", "jobs", "show"],
        ["activejob", "worker", "--adapter"],
    ]
    enqueue, listing, show, worker = commands
    assert run(enqueue, folder).returncode == 0
    listed = run(listing, folder)
    assert listed.returncode == 0, listed.stderr
    blocked = [line for line in listed.stdout.splitlines() if "blocked" in line]
    assert len(blocked) == 2, listed.stdout
    prefix = blocked[0].split()[0][:8]
    shown = run(show.replace("0b6c", prefix), folder)
    assert shown.returncode == 0, shown.stderr
    assert "waiting:      for a slot of concurrency key 'jobs.ChargeJob/42'" in shown.stdout
    everything = run("activejob jobs list --adapter sqlite:///jobs.sqlite3", folder)
    states = [line.split()[3] for line in everything.stdout.splitlines()[1:]]
    assert sorted(states) == ["blocked", "blocked", "discarded", "ready", "ready", "ready"]
    keys = run("activejob jobs blocked --adapter sqlite:///jobs.sqlite3 --json", folder)
    [key] = json.loads(keys.stdout)["keys"]  # as the doc says after the listing
    assert (key["key"], key["waiting"], key["taken"], len(key["holders"])) == (
        "jobs.ChargeJob/42",
        2,
        1,
        1,
    )
    ran = run(worker, folder)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = [line.split() for line in (folder / "ran.log").read_text().splitlines()]
    charges = [(what, account) for _, what, kind, *rest in lines if kind == "charge"
               for account in rest[:1]]  # fmt: skip
    running: dict[str, int] = {}
    for what, account in charges:
        running[account] = running.get(account, 0) + (1 if what == "start" else -1)
        assert running[account] <= 1, charges
    assert sum(1 for what, account in charges if what == "end" and account == "42") == 3
    assert sum(1 for line in lines if line[1:] == ["refreshed", "rates"]) == 1
