"""The testing examples run as written: the pytest one under pytest in a
subprocess, the unittest one through unittest's loader; and docs/testing.md shows
them exactly as they are in examples/testing/."""

from __future__ import annotations

import io
import re
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_testing_plugin import run_pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "testing"
DOC = ROOT / "docs" / "testing.md"


def test_the_pytest_example_passes() -> None:
    result = run_pytest(EXAMPLES, "-q", "test_accounts_pytest.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


@pytest.fixture
def example_path() -> Iterator[None]:
    """The example directory on ``sys.path`` for the loader, and its modules
    forgotten afterwards."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in ("accounts", "test_accounts_unittest"):
            del sys.modules[name]
    while str(EXAMPLES) in sys.path:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.usefixtures("example_path")
def test_the_unittest_example_passes() -> None:
    suite = unittest.defaultTestLoader.discover(
        str(EXAMPLES), pattern="test_accounts_unittest.py", top_level_dir=str(EXAMPLES)
    )
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    assert result.wasSuccessful(), stream.getvalue()
    assert result.testsRun == 4


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
