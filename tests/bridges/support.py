"""Foreign workers in subprocesses, and what the bridge tests read back.

:class:`Bridge` is one system on one broker: the adapter the test process enqueues
through, the worker subprocess (Celery's or Dramatiq's own command), the ledger
the jobs write, and how that system records a failed message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activejob.adapters.base import Adapter
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
"""Seconds a worker may take to say it is ready (a loaded machine is slow)."""


def unique_prefix(system: str) -> str:
    """Queue names, a Redis namespace: nothing another test or helper uses."""
    return f"ajb_{system}_{uuid.uuid4().hex[:8]}"


@dataclass
class Worker:
    """A worker subprocess writing to ``log``."""

    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def worker(
    argv: list[str], env: dict[str, str], log: Path, ready: str, cwd: Path = ROOT
) -> Iterator[Worker]:
    """Run ``python -m <argv>`` in ``cwd`` (the repository root) until the block
    ends; wait for ``ready`` in its output first."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    full_env.pop("ACTIVEJOB_ADAPTER", None)
    full_env.update(env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=cwd, env=full_env, stdout=out, stderr=out
        )
    running = Worker(process, log)
    try:

        def started() -> bool:
            if not running.alive:
                raise AssertionError(f"worker exited {process.returncode}:\n{running.text()}")
            return ready in running.text()

        wait_for(started, timeout=STARTUP_TIMEOUT, interval=0.05)
        yield running
    finally:
        running.stop()


@dataclass
class Ledger:
    """The JSON lines the jobs of ``tests/bridges/jobs.py`` write."""

    path: Path

    def lines(self, tag: str, event: str = "ran") -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        found = []
        text = self.path.read_text(encoding="utf-8")
        # A line still being written (no newline yet) is read on the next call.
        for raw in text[: text.rfind("\n") + 1].splitlines():
            line = json.loads(raw)
            if line["tag"] == tag and line["event"] == event:
                found.append(line)
        return found


@dataclass
class Bridge:
    """One foreign system on one broker, its worker running."""

    name: str
    adapter: Adapter
    prefix: str
    ledger: Ledger
    worker: Worker
    gid_out: Path
    failure_recorded: Callable[[str], bool]
    """Whether the system recorded a failed message that shows this text (in its
    dead-letter queue, or its worker's failure line)."""
    configure: Callable[[], None] = field(default=lambda: None)
    """Point activejob in the test process at this bridge (done before each test)."""
