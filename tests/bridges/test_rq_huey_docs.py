"""docs/bridges.md as written: it shows the files under examples/bridges/
exactly, and its commands, run from examples/bridges/ as a user would (the worker it
gives, then the enqueue script), write every receipt once. Redis database 14."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from tests.bridges.subprocess_worker import BIN, ROOT, WorkerProcess, redis_db_url
from tests.support import wait_for

DOC = ROOT / "docs" / "bridges.md"
EXAMPLES = ROOT / "examples" / "bridges"
DB = 14


def commands(kind: str) -> dict[str, str]:
    found = re.findall(rf"<!-- {kind}: (\w+) -->\n```sh\n(.*?)\n```", DOC.read_text(), re.S)
    return dict(found)


def test_the_doc_shows_the_examples_exactly() -> None:
    blocks = dict(
        re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", DOC.read_text(), re.S)
    )
    assert set(blocks) == {
        f"examples/bridges/{p.name}"
        for p in EXAMPLES.glob("*.py")
        if p.name.startswith(("rq_", "huey_"))
    }
    for path, shown in blocks.items():
        assert shown == (ROOT / path).read_text(), f"{DOC.name} is out of date for {path}"


def test_the_doc_has_a_worker_and_an_enqueue_command_per_system() -> None:
    assert set(commands("worker")) == set(commands("enqueue")) == {"rq", "huey"}


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("rq", ["receipt for order 42", "receipt for order 43"]),
        ("huey", ["legacy receipt for order 41", "receipt for order 42", "receipt for order 43"]),
    ],
)
def test_the_documented_commands_run(system: str, expected: list[str], tmp_path: Path) -> None:
    pytest.importorskip(system)
    url = redis_db_url(DB)
    redis = Redis.from_url(url)
    redis.flushdb()
    receipts = tmp_path / "receipts.txt"
    env = {
        "REDIS_URL": url,
        "RECEIPTS": str(receipts),
        "PYTHONDONTWRITEBYTECODE": "1",  # leave no __pycache__ in examples/
        "PYTHONPATH": "",
        "ACTIVEJOB_ADAPTER": "",
        "ACTIVEJOB_IMPORTS": "",
    }
    worker = WorkerProcess(_resolve(commands("worker")[system]), env, tmp_path / "worker.log",
                           cwd=EXAMPLES)  # fmt: skip
    try:
        enqueue = subprocess.run(
            _resolve(commands("enqueue")[system]),
            cwd=EXAMPLES,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert enqueue.returncode == 0, enqueue.stdout + enqueue.stderr
        assert "ids:" in enqueue.stdout

        def written() -> list[str]:
            return receipts.read_text().splitlines() if receipts.exists() else []

        wait_for(lambda: len(written()) >= len(expected) or not worker.alive(), 30)
        assert sorted(written()) == expected, worker.output()
    finally:
        worker.stop()
        redis.flushdb()
        redis.close()


def _resolve(command: str) -> list[str]:
    """The command with its program taken from this interpreter's environment."""
    program, *args = shlex.split(command)
    if program == "python":
        return [sys.executable, *args]
    return [str(BIN / program), *args]
