"""The testing examples run as written: the commands docs/testing.md gives, run
in a subprocess from examples/testing/ as a user would; and docs/testing.md shows
the examples exactly as they are in examples/testing/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "testing"
DOC = ROOT / "docs" / "testing.md"
PYTEST_COMMAND = "pytest test_accounts_pytest.py"
UNITTEST_COMMAND = "python -m unittest test_accounts_unittest"


def documented_commands() -> list[str]:
    return re.findall(r"Run it from `examples/testing/` with `([^`]+)`", DOC.read_text())


def run_documented(command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` from examples/testing/ with this interpreter's ``python``
    and ``pytest`` and no help from PYTHONPATH: activejob must be installed (and
    with it the pytest plugin's entry point), as it is for a user."""
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


def test_the_docs_give_both_commands() -> None:
    assert documented_commands() == [PYTEST_COMMAND, UNITTEST_COMMAND]


def test_the_pytest_example_passes() -> None:
    result = run_documented(PYTEST_COMMAND)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_the_unittest_example_passes() -> None:
    result = run_documented(UNITTEST_COMMAND)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ran 4 tests" in result.stderr and result.stderr.rstrip().endswith("OK")


def test_the_docs_show_the_examples_exactly() -> None:
    text = DOC.read_text()
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", text, re.S))
    assert set(blocks) == {
        "examples/testing/accounts.py",
        "examples/testing/test_accounts_pytest.py",
        "examples/testing/test_accounts_unittest.py",
    }
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/testing.md is out of date for {path}"
