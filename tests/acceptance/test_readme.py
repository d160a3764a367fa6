"""The README's example is the file in examples/, and it runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_example_is_examples_quickstart() -> None:
    quickstart = (ROOT / "examples" / "quickstart.py").read_text()
    body = quickstart.split('"""', 2)[2].lstrip("\n")
    assert body in readme_python_blocks()


def test_quickstart_runs_and_retries() -> None:
    out = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=ROOT / "examples",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert sorted(out) == sorted(
        [
            "welcome mail for user 42 (fr), attempt 1",
            "welcome mail for user 42 (fr), attempt 2",
            "welcome mail for user 43 (en), attempt 1",
            "welcome mail for user 43 (en), attempt 2",
            "report for 2026-11-28 built",
        ]
    )
