"""Helpers for tests: condition waits, a job's stored state and a recording adapter."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from activejob.adapters.base import Adapter, payload_copy
from activejob.job.base import Job
from activejob.storage.base import JobState, Storage


def wait_for(
    condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.005
) -> None:
    """Block until ``condition()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        time.sleep(interval)  # sleep-ok: polling interval of a deadline-bound wait


def job_state(storage: Storage, job_id: str) -> JobState | None:
    """The stored state of ``job_id``, ``None`` once it is gone (pruned, or never there)."""
    info = storage.get(job_id)
    return None if info is None else info.state


class RecordingAdapter(Adapter):
    """Keeps what it was given, call by call; optionally refuses with ``error``."""

    scheme: ClassVar[str] = "recording"

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.error = error

    def enqueue(self, job: Job) -> None:
        self._take("enqueue", payload_copy(job))
        job.provider_job_id = f"rec-{len(self.calls)}"

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        self._take("enqueue_at", (payload_copy(job), timestamp))

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        self._take("enqueue_all", [payload_copy(j) for j in jobs])
        for j in jobs:
            j.successfully_enqueued = True
        return len(jobs)

    def _take(self, name: str, value: Any) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append((name, value))

    @property
    def payloads(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, value in self.calls:
            if name == "enqueue":
                out.append(value)
            elif name == "enqueue_at":
                out.append(value[0])
            else:
                out.extend(value)
        return out
