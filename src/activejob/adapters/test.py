"""``test:``: record jobs instead of running them, for ``activejob.testing``.

Every enqueued job is kept as its JSON payload in :attr:`TestAdapter.enqueued_jobs`;
:meth:`TestAdapter.perform_enqueued_jobs` runs them (through the same JSON round
trip as a real backend) and records them in :attr:`TestAdapter.performed_jobs`.
With ``perform_enqueued = True`` jobs run as soon as they are enqueued.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from activejob.adapters.base import Adapter, payload_copy
from activejob.job.execution import Outcome, run

if TYPE_CHECKING:
    from activejob.job.base import Job


@dataclass
class RecordedJob:
    """A job as the test adapter saw it: its payload and, once run, its outcome."""

    payload: dict[str, Any]
    at: float | None = None
    outcome: Outcome | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def job_class(self) -> str:
        """The payload name of the job's class."""
        return str(self.payload["job_class"])

    @property
    def queue_name(self) -> str:
        """The queue the job was enqueued on."""
        return str(self.payload["queue_name"])


class TestAdapter(Adapter):
    """Keeps enqueued jobs in memory; runs them only when asked."""

    __test__ = False  # not a pytest test class
    scheme: ClassVar[str] = "test"
    nonblocking: ClassVar[bool] = True
    performs_inline: ClassVar[bool] = True

    def __init__(self) -> None:
        self.enqueued_jobs: list[RecordedJob] = []
        self.performed_jobs: list[RecordedJob] = []
        self.perform_enqueued: bool | Callable[[RecordedJob], bool] = False
        self._lock = threading.RLock()

    def enqueue(self, job: Job) -> None:
        self._record(RecordedJob(payload_copy(job)))

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        self._record(RecordedJob(payload_copy(job), at=timestamp))

    def _record(self, recorded: RecordedJob) -> None:
        with self._lock:
            self.enqueued_jobs.append(recorded)
        flag = self.perform_enqueued
        if flag is True or (callable(flag) and flag(recorded)):
            self.perform(recorded)

    def perform(self, recorded: RecordedJob) -> Outcome:
        """Run one recorded job now and record it as performed."""
        outcome = run(recorded.payload)
        recorded.outcome = outcome
        with self._lock:
            self.performed_jobs.append(recorded)
        if outcome.kind == "retry":
            assert outcome.job is not None and outcome.retry is not None
            outcome.job.retry_job(outcome.retry)
        elif outcome.kind == "failed":
            assert outcome.exception is not None
            raise outcome.exception
        return outcome

    def perform_enqueued_jobs(self) -> int:
        """Run every job enqueued and not yet performed (not those they enqueue)."""
        with self._lock:
            done = {id(r) for r in self.performed_jobs}
            todo = [r for r in self.enqueued_jobs if id(r) not in done]
        for recorded in todo:
            self.perform(recorded)
        return len(todo)

    def clear(self) -> None:
        """Forget every enqueued and performed job."""
        with self._lock:
            self.enqueued_jobs.clear()
            self.performed_jobs.clear()
