"""docs/continuations.md runs as written: it shows examples/continuations/ exactly,
the demo (a real worker stopped by SIGTERM, another resuming the job) and the
pytest example pass when run as the doc says, and the opening sketch works."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from activejob.job.execution import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "continuations"
DOC = ROOT / "docs" / "continuations.md"


def run_documented(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` from examples/continuations/ with this interpreter's ``python`` or
    ``pytest`` and no PYTHONPATH: activejob installed, as a user has it."""
    try:
        distribution("activejob")
    except PackageNotFoundError:  # pragma: no cover - the dev venv installs it
        pytest.skip("activejob is not installed in this interpreter")
    program, *args = command.split()
    bin_dir = Path(sys.executable).parent
    executable = sys.executable if program == "python" else shutil.which(program, path=bin_dir)
    assert executable, f"{program} is not installed next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in examples/
    return subprocess.run(
        [executable, *args], cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_doc_shows_the_examples_exactly() -> None:
    text = DOC.read_text()
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", text, re.S))
    assert set(blocks) == {
        "examples/continuations/imports.py",
        "examples/continuations/demo.py",
        "examples/continuations/test_imports.py",
    }
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), (
            f"docs/continuations.md is out of date for {path}"
        )


def test_the_doc_gives_the_commands_it_is_tested_with() -> None:
    commands = re.findall(r"Run it from `examples/continuations/` with `([^`]+)`", DOC.read_text())
    assert commands == ["python demo.py", "pytest test_imports.py"]


def test_the_demo_resumes_the_stopped_job_in_a_second_worker() -> None:
    result = run_documented("python demo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"stopped at step 'rows', cursor \d+", lines[0]), result.stdout
    assert 0 < int(lines[0].rsplit(" ", 1)[1]) < 300
    assert lines[1:] == ["imported 300 rows", "state: succeeded", "every row once: True"]


def test_the_pytest_example_passes() -> None:
    result = run_documented("pytest test_imports.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_opening_sketch_runs_and_resumes_at_its_cursor() -> None:
    sketch = re.search(
        r"```python\n(from activejob import Continuable.*?)```", DOC.read_text(), re.S
    )
    assert sketch is not None
    saved: list[int] = []
    rows = [SimpleNamespace(id=n) for n in range(1, 6)]
    namespace: dict[str, Any] = {
        "__name__": "continuations_sketch",
        "rows_after": lambda cursor: [row for row in rows if row.id > cursor],
        "save": lambda row: saved.append(row.id),
    }
    exec(compile(sketch.group(1), str(DOC), "exec"), namespace)
    job_class = namespace["ImportJob"]

    asked = iter([False, False, False, True])  # stop at the third saved row
    job = job_class(7)
    assert run(job, stopping=lambda: next(asked, True)).kind == "resumed"
    assert saved == [1, 2, 3]
    resumed = job_class.deserialize(job.serialize())
    assert run(resumed).kind == "succeeded"
    assert saved == [1, 2, 3, 4, 5]
