"""docs/flow-control.md's rate-limit recipe runs as written: it shows
examples/flow/rate/ exactly, and its commands, run from a copy of that folder,
start the geocodes 5 a second and the syncs 2 a second per account."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "flow-control.md"
EXAMPLES = ROOT / "examples" / "flow" / "rate"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Rate limits")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_doc_shows_the_examples_exactly() -> None:
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", section(), re.S))
    assert set(blocks) == {"examples/flow/rate/jobs.py", "examples/flow/rate/enqueue.py"}
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/flow-control.md is out of date for {path}"


def most_in_a_window(times: list[float], per: float) -> int:
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - per:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "rate"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    commands = re.findall(r"^\$ (.+)$", section(), re.M)
    assert [c.split()[0] for c in commands] == ["python", "activejob"]
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "activejob").exists():  # pragma: no cover - the dev venv installs it
        pytest.skip("the activejob script is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for command in commands:
        program, *args = command.split()
        executable = sys.executable if program == "python" else str(bin_dir / program)
        done = subprocess.run(
            [executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    calls = [line.split(" ", 1) for line in (folder / "calls.log").read_text().splitlines()]
    geocodes = [float(at) for at, what in calls if what.endswith("Main Street")]
    syncs = {n: [float(at) for at, what in calls if what == f"sync {n}"] for n in (1, 2)}
    assert len(geocodes) == 12 and [len(syncs[1]), len(syncs[2])] == [3, 1]
    jitter = 0.2  # a claim and its job's first line are a moment apart (more when loaded)
    assert most_in_a_window(geocodes, 1.0 - jitter) <= 5
    assert max(geocodes) - min(geocodes) >= 2.0 - jitter  # three windows: 5, 5, 2
    assert most_in_a_window(syncs[1], 1.0 - jitter) <= 2
    assert max(syncs[1]) - min(syncs[1]) >= 1.0 - jitter
