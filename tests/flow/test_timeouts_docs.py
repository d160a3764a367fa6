"""The "Timeouts and cancellation" section of docs/flow-control.md runs as written:
it shows examples/flow/timeouts/ exactly, and its commands, run from a copy of that
folder, start a worker, enqueue, cancel a waiting and a running job, and show it."""

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
DOC = ROOT / "docs" / "flow-control.md"
EXAMPLES = ROOT / "examples" / "flow" / "timeouts"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Timeouts and cancellation")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def commands() -> list[str]:
    return re.findall(r"^\$ (.+)$", section(), re.M)


def test_the_section_shows_the_examples_exactly() -> None:
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", section(), re.S))
    assert set(blocks) == {"examples/flow/timeouts/jobs.py", "examples/flow/timeouts/enqueue.py"}
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/flow-control.md is out of date for {path}"


def start(command: str, cwd: Path, **kwargs: object) -> subprocess.Popen[str]:
    """``command`` as typed, with the installed ``activejob`` script (or this Python)."""
    program, *args = command.split()
    if program == "python":
        found: str | None = sys.executable
    else:
        found = shutil.which(program, path=str(Path(sys.executable).parent))
    if found is None:  # pragma: no cover - the dev venv installs it
        pytest.skip("the activejob script is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.Popen([found, *args], cwd=cwd, env=env, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def output_of(command: str, cwd: Path) -> str:
    done = start(command, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, f"{command}: {err}"
    return str(out)


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "timeouts"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    worker_command, enqueue, cancel_report, cancel_export, show = commands()
    assert worker_command.startswith("activejob worker ") and enqueue == "python enqueue.py"
    log = (tmp_path / "worker.out").open("w")
    worker = start(worker_command, folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        ids = dict(line.split() for line in output_of(enqueue, folder).splitlines())
        from activejob.storage.sql.sqlite import SQLiteStorage

        storage = SQLiteStorage(folder / "timeouts.sqlite3")

        def running() -> bool:
            info = storage.get(ids["export"])
            return info is not None and info.state.value == "running"

        wait_for(running, timeout=40)
        said = output_of(cancel_report.replace("REPORT_ID", ids["report"]), folder)
        assert said == f"cancelled {ids['report']}: discarded (it was scheduled)\n"
        said = output_of(cancel_export.replace("EXPORT_ID", ids["export"]), folder)
        assert said.startswith(f"cancel requested for {ids['export']} (running)")

        def discarded() -> bool:
            info = storage.get(ids["export"])
            return info is not None and info.state.value == "discarded"

        wait_for(discarded, timeout=20)
        shown = output_of(show.replace("EXPORT_ID", ids["export"]), folder)
        assert "state:        discarded" in shown
        assert "error:        activejob.errors.JobCancelled" in shown
        storage.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        status = worker.wait(30)
    text = (tmp_path / "worker.out").read_text()
    assert status == 0, text
    assert f"cancelling job {ids['export']}" in text
