"""docs/bridges.md shows examples/bridges/ exactly, and its "Moving a Celery task to
activejob" commands work as written: each file on Celery's own worker, on Redis."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.bridges.support import ROOT, worker
from tests.globalid.support import need
from tests.services import service_url
from tests.support import wait_for

DOC = ROOT / "docs" / "bridges.md"
EXAMPLES = ROOT / "examples" / "bridges"
EXAMPLE_DB = 11
"""The examples use the queue name "mail" as written: on a Redis database of
their own, so nothing else's "mail" queue is touched."""


def test_doc_shows_the_examples_exactly() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    for name in ("receipts_celery.py", "receipts_activejob.py"):
        assert (EXAMPLES / name).read_text() in blocks, f"{name} differs from docs/bridges.md"


def documented_commands() -> list[list[str]]:
    """The two command pairs of the doc: (worker, enqueue) for the task, then the job."""
    found = re.findall(r"```\n(celery -A [^\n]+)\n(python -c [^\n]+)\n```", DOC.read_text())
    return [list(pair) for pair in found]


@pytest.mark.parametrize("module", ["receipts_celery", "receipts_activejob"])
def test_the_documented_commands_run(module: str, tmp_path: Path) -> None:
    need("celery")
    parts = urlsplit(service_url("redis"))
    broker = f"redis://{parts.hostname}:{parts.port}/{EXAMPLE_DB}"
    [(worker_cmd, enqueue_cmd)] = [c for c in documented_commands() if module in c[0]]
    log = tmp_path / "receipts.log"
    env = {"BROKER_URL": broker, "RECEIPTS_LOG": str(log), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [*worker_cmd.split(), "--pool", "solo", "--without-heartbeat", "--without-gossip",
            "--without-mingle", "-l", "INFO"]  # fmt: skip
    with worker(argv, env, tmp_path / "worker.log", "ready.", cwd=EXAMPLES):
        code = enqueue_cmd.removeprefix('python -c "').removesuffix('"')
        subprocess.run([sys.executable, "-c", code], cwd=EXAMPLES, check=True, timeout=60,
                       env=user_env(env))  # fmt: skip
        wait_for(lambda: log.exists() and "receipt for order 42" in log.read_text(), timeout=30)
    assert log.read_text() == "receipt for order 42\n"


def user_env(env: dict[str, str]) -> dict[str, str]:
    """This environment as a user's: no PYTHONPATH (activejob is installed), plus ``env``."""
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIVEJOB_ADAPTER")}
    return {**full, **env}
