"""docs/recurring.md runs as written: it shows examples/recurring/ exactly, and its
commands, run from a copy of that folder, schedule, run, pause and resume."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "recurring.md"
EXAMPLES = ROOT / "examples" / "recurring"


def commands() -> list[str]:
    return re.findall(r"^\$ (activejob .+)$", DOC.read_text(), re.M)


def test_the_doc_shows_the_examples_exactly() -> None:
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", DOC.read_text(), re.S))
    assert set(blocks) == {"examples/recurring/jobs.py", "examples/recurring/schedule.toml"}
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/recurring.md is out of date for {path}"


def run(command: str, cwd: Path, **kwargs: object) -> subprocess.Popen[str]:
    """``command`` as typed, with the installed ``activejob`` script."""
    program, *args = command.split()
    script = shutil.which(program, path=str(Path(sys.executable).parent))
    if script is None:  # pragma: no cover - the dev venv installs it
        pytest.skip("the activejob script is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.Popen([script, *args], cwd=cwd, env=env, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "recurring"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    worker_command, *operator_commands = commands()
    assert worker_command.startswith("activejob worker ")
    assert [c.split()[2] for c in operator_commands] == ["list", "pause", "run", "resume", "list"]
    log = folder / "ran.log"
    output = (tmp_path / "worker.out").open("w")
    worker = run(worker_command, folder, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: log.exists() and "polled the feeds" in log.read_text(), timeout=40)
        for command in operator_commands:
            done = run(command, folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = done.communicate(timeout=60)
            assert done.returncode == 0, f"{command}: {err}"
            if command.endswith("--json"):
                assert '"key": "weekly-report"' in out and '"paused": false' in out
        wait_for(lambda: "cleanup older than 30 days" in log.read_text(), timeout=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        status = worker.wait(30)
    text = (tmp_path / "worker.out").read_text()
    assert status == 0, text
    assert "scheduler starting: 4 recurring task(s)" in text
