"""docs/reliability.md's idempotency example is examples/reliability/idempotent.py,
and run as written it stores one charge for two runs of the job."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "reliability" / "idempotent.py"


def test_the_doc_shows_the_example_file() -> None:
    doc = (ROOT / "docs" / "reliability.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert EXAMPLE.read_text().split('"""', 2)[2].lstrip("\n") in blocks


def test_two_runs_of_the_job_store_one_charge() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == ["[(1001, 4999)]"]
