"""Worker tests run against the real SQLite storage in a temporary file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import Storage
from activejob.worker import Worker, WorkerOptions
from tests.worker import jobs

FAST = WorkerOptions(
    threads=2,
    poll_interval=0.05,
    heartbeat_interval=0.2,
    recover_after=1.0,
    shutdown_timeout=5.0,
    burst_horizon=2.0,
)
"""Short timings, so tests take fractions of a second."""


@pytest.fixture(autouse=True)
def clean_runs() -> Iterator[None]:
    jobs.RUNS.clear()
    yield
    jobs.RUNS.clear()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A fresh SQLite backend, configured as the default adapter."""
    address = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=address)
    return address


@pytest.fixture
def storage(url: str) -> Storage:
    built: Storage = storage_of(url)
    built.migrate()
    return built


class Background:
    """A worker running in a thread, for tests that act while it works."""

    def __init__(self, worker: Worker, burst: bool) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(burst,), daemon=True)

    def _run(self, burst: bool) -> None:
        try:
            self.worker.run(burst=burst)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = 20.0) -> None:
        """Wait for the worker to return; fail the test if it does not in time."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.worker.stop()
            raise AssertionError(f"the worker did not return within {timeout}s")
        if self.error is not None:
            raise self.error


def start_worker(url: str, options: WorkerOptions = FAST, *, burst: bool = False) -> Background:
    background = Background(Worker(url, options=options), burst)
    background.thread.start()
    return background


@contextmanager
def working(url: str, options: WorkerOptions = FAST) -> Iterator[Background]:
    """A worker running in a thread for the ``with`` block; stopped and joined after
    it, even when the block fails (so it does not outlive its storage)."""
    background = start_worker(url, options)
    try:
        yield background
    finally:
        background.worker.stop()
        background.join()


def run_burst(url: str, options: WorkerOptions = FAST, timeout: float = 20.0) -> None:
    """Run a burst worker to its end (in a thread, so a hang fails instead of blocking)."""
    start_worker(url, options, burst=True).join(timeout)
