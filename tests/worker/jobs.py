"""Jobs the worker tests run, in the test process and in worker processes
(``--import tests.worker.jobs``).

In-process tests read :data:`RUNS`; jobs run by worker processes write lines to
files the test reads. Jobs that must wait do so on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path

import activejob
from activejob import Job
from tests.support import wait_for

RUNS: list[tuple[str, str]] = []
"""(label, thread name) of every run in this process, in order."""
_runs_lock = threading.Lock()
BARRIERS: dict[str, threading.Barrier] = {}
GATES: dict[str, threading.Event] = {}
_rendezvous: dict[str, asyncio.Event] = {}


def record(label: str) -> None:
    with _runs_lock:
        RUNS.append((label, threading.current_thread().name))


def labels() -> list[str]:
    with _runs_lock:
        return [label for label, _ in RUNS]


class FlakyError(Exception):
    """Raised by :class:`Flaky` until it has failed enough."""


class Note(Job):
    """Records its label."""

    def perform(self, label: str) -> None:
        record(label)


@activejob.retry_on(FlakyError, wait=0.2, attempts=5, jitter=0)
class Flaky(Job):
    """Fails ``failures`` times, then succeeds (through retry_on and the storage)."""

    def perform(self, label: str, failures: int) -> None:
        record(f"{label}#{self.executions}")
        if self.executions <= failures:
            raise FlakyError(f"{label} attempt {self.executions} failed")


class Broken(Job):
    """Always fails."""

    def perform(self, message: str) -> None:
        raise ValueError(message)


class Chain(Job):
    """Records, then enqueues the next link until ``left`` is 0."""

    def perform(self, left: int) -> None:
        record(f"chain{left}")
        if left:
            Chain.perform_later(left - 1)


class AtBarrier(Job):
    """Waits at a shared barrier: passes only if the other parties run concurrently."""

    def perform(self, name: str, label: str) -> None:
        BARRIERS[name].wait(timeout=5)
        record(label)


class Gated(Job):
    """Records, then waits until the test opens its gate."""

    def perform(self, gate: str, label: str) -> None:
        record(f"{label}:started")
        if not GATES[gate].wait(timeout=30):
            raise TimeoutError(f"gate {gate} never opened")
        record(label)


class AsyncGated(Job):
    """Async: records, then waits until the test opens its gate."""

    async def perform(self, gate: str, label: str) -> None:
        record(f"{label}:started")
        for _ in range(3000):
            if GATES[gate].is_set():
                record(label)
                return
            await asyncio.sleep(0.01)  # sleep-ok: polls a threading gate, bounded to 30 s
        raise TimeoutError(f"gate {gate} never opened")


class AsyncMeet(Job):
    """Async: announces itself, then waits for ``other``; needs both on one loop at once."""

    async def perform(self, me: str, other: str) -> None:
        _event(me).set()
        await asyncio.wait_for(_event(other).wait(), timeout=5)
        record(me)


def _event(name: str) -> asyncio.Event:
    return _rendezvous.setdefault(name, asyncio.Event())


# -- for worker processes (state in files) --------------------------------------------


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(f"{text}\n")


class AppendLine(Job):
    """Appends ``label pid`` to ``log``."""

    def perform(self, log: Path, label: str) -> None:
        append(log, f"{label} {os.getpid()}")


class WaitForFile(Job):
    """Appends ``label:started pid``, waits for ``release`` to exist, appends ``label pid``."""

    def perform(self, log: Path, label: str, release: Path) -> None:
        append(log, f"{label}:started {os.getpid()}")
        wait_for(release.exists, timeout=60)
        append(log, f"{label} {os.getpid()}")


class DiesFirstTime(Job):
    """First run: logs and hangs until killed. Later runs: log and succeed."""

    def perform(self, log: Path) -> None:
        first = not log.exists()
        append(log, f"{'first' if first else 'again'} {os.getpid()}")
        if first:
            wait_for(lambda: False, timeout=60)


class KillsItsWorker(Job):
    """A poison job: kills the process running it, every time."""

    def perform(self, log: Path) -> None:
        append(log, f"run {os.getpid()}")
        os.kill(os.getpid(), signal.SIGKILL)


class ExitsItsWorker(Job):
    """A poison job: ends the process running it with ``os._exit``, every time."""

    def perform(self, log: Path) -> None:
        append(log, f"poison {os.getpid()}")
        os._exit(70)


class Unprintable(Exception):
    """An exception whose message cannot be built."""

    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class RaisesUnprintable(Job):
    """Fails with an exception that breaks ``str()``."""

    def perform(self) -> None:
        raise Unprintable()


class AsyncStuck(Job):
    """Async: records, then waits forever; records its cancellation."""

    async def perform(self, label: str) -> None:
        record(f"{label}:started")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            record(f"{label}:cancelled")
            raise
