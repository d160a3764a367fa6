"""docs/flow-control.md, "Unique jobs and debounce", runs as written: it shows
examples/flow/unique/ exactly, and demo.py, run from a copy of that folder, prints
what the doc says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "flow-control.md"
EXAMPLES = ROOT / "examples" / "flow" / "unique"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Unique jobs and debounce")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_doc_shows_the_examples_exactly() -> None:
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", section(), re.S))
    assert set(blocks) == {"examples/flow/unique/jobs.py", "examples/flow/unique/demo.py"}
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"docs/flow-control.md is out of date for {path}"


def test_the_demo_prints_what_the_doc_says(tmp_path: Path) -> None:
    [expected] = re.findall(r"<!-- output: \S+ -->\n```text\n(.*?)```", section(), re.S)
    folder = tmp_path / "unique"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, "demo.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
