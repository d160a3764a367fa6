"""``test:``: record jobs instead of running them, for ``activejob.testing``.

Every enqueued job is kept, as the JSON payload a real backend would store, in
:attr:`TestAdapter.enqueued_jobs` until it is performed.
:meth:`TestAdapter.perform_enqueued_jobs` runs them; inside
:meth:`TestAdapter.performing` jobs run as soon as they are enqueued, jobs they
enqueue included. As in Rails' test adapter, a job that runs
moves out of ``enqueued_jobs`` into :attr:`TestAdapter.performed_jobs`, where its
:class:`~activejob.Outcome` is recorded.

Example::

    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    ReportJob.perform_later(42)
    assert [r.args for r in adapter.enqueued_jobs] == [(42,)]
    adapter.perform_enqueued_jobs()
    assert adapter.enqueued_jobs == [] and len(adapter.performed_jobs) == 1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from activejob import _time
from activejob.adapters.base import Adapter, payload_copy
from activejob.errors import DeserializationError
from activejob.flow.concurrency import concurrency_slots
from activejob.flow.rate import StoredLimit, rate_limits_of
from activejob.flow.unique import InMemoryKeys
from activejob.job.core import JobCore
from activejob.job.execution import Outcome, run, settle
from activejob.storage.concurrency import ConcurrencySlot

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["RecordedJob", "Selector", "TestAdapter"]


@dataclass(eq=False)
class RecordedJob:
    """One job as the test adapter saw it: its payload and, once run, its outcome.

    Example::

        recorded = adapter.enqueued_jobs[0]
        recorded.job_class, recorded.args, recorded.queue_name, recorded.scheduled_at
    """

    payload: dict[str, Any]
    """The job's payload after a JSON round trip."""
    at: float | None = None
    """When it was scheduled to run (epoch seconds), ``None`` for "as soon as possible"."""
    outcome: Outcome | None = None
    """How its run ended, once performed (``None`` while it runs or if it never ran)."""
    enqueued_index: int = 0
    """Its place in the order of enqueues (kept across :meth:`TestAdapter.clear`)."""
    performed_index: int | None = None
    """Its place in the order of performs; ``None`` until it is performed."""
    # -- flow: rate limits
    rate_limits: list[StoredLimit] = field(default_factory=list)
    """The job's rate limits, keys resolved at enqueue (recorded, not enforced)."""
    # flow: concurrency
    concurrency: tuple[ConcurrencySlot, ...] = ()
    """The concurrency slots it would need (``limits_concurrency``), recorded, not enforced."""
    _decoded: Job | None = field(default=None, init=False, repr=False)

    @property
    def job_class(self) -> str:
        """The payload name of the job's class (``"myapp.jobs.ReportJob"``)."""
        return str(self.payload["job_class"])

    @property
    def job_id(self) -> str:
        """The job's id."""
        return str(self.payload["job_id"])

    @property
    def queue_name(self) -> str:
        """The queue the job was enqueued on."""
        return str(self.payload["queue_name"])

    @property
    def priority(self) -> int | None:
        """The job's priority, ``None`` for the backend default."""
        value = self.payload.get("priority")
        return None if value is None else int(value)

    @property
    def executions(self) -> int:
        """How many times the job had run when it was enqueued (0, or more for a retry)."""
        return int(self.payload.get("executions") or 0)

    @property
    def scheduled_at(self) -> datetime | None:
        """When the job was scheduled to run, as an aware UTC datetime."""
        return None if self.at is None else _time.from_timestamp(self.at)

    @property
    def performed(self) -> bool:
        """Whether the adapter has run (or is running) this job."""
        return self.performed_index is not None

    @property
    def args(self) -> tuple[Any, ...]:
        """The positional arguments, deserialised (``DeserializationError`` if they cannot be)."""
        return self._job().arguments

    @property
    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments, deserialised."""
        return self._job().kwargs

    def job(self) -> Job:
        """A new job instance built from the payload, its arguments deserialised.

        Example::

            job = adapter.enqueued_jobs[0].job()
            job.perform_now()
        """
        job = cast("Job", JobCore.deserialize(self.payload))
        job.arguments  # noqa: B018 - deserialise now, so errors surface here
        return job

    def _job(self) -> Job:
        if self._decoded is None:
            self._decoded = self.job()
        return self._decoded


Selector = Callable[[RecordedJob], bool]
"""Decides whether a recorded job should be performed."""


def _every_job(recorded: RecordedJob) -> bool:
    return True


class TestAdapter(Adapter):
    """Keeps enqueued jobs in memory; runs them only when asked.

    ``perform_enqueued`` set to ``True`` (or to a :data:`Selector`) runs jobs as
    soon as they are enqueued, for the adapter's whole life; the scoped way is
    :meth:`performing`.
    """

    __test__ = False  # not a pytest test class
    scheme: ClassVar[str] = "test"
    nonblocking: ClassVar[bool] = True
    performs_inline: ClassVar[bool] = True

    def __init__(self) -> None:
        self.enqueued_jobs: list[RecordedJob] = []
        """Every job enqueued and not performed (yet), in the order enqueued."""
        self.performed_jobs: list[RecordedJob] = []
        """Every job performed, in the order they started."""
        self.perform_enqueued: bool | Selector = False
        self._modes: list[Selector] = []
        self._enqueued_total = 0
        self._performed_total = 0
        self._lock = threading.RLock()
        self._keys = InMemoryKeys()  # flow: unique
        self.stop_rule: Callable[[JobCore], bool] | None = None
        """Asked, with the running job, at each checkpoint of a job performed here
        (``None``: nothing ever stops one); set by
        :func:`activejob.testing.interrupt_job_during_step` and
        :func:`~activejob.testing.interrupt_job_after_step`."""

    @property
    def enqueued_total(self) -> int:
        """How many jobs were ever enqueued here (not reset by :meth:`clear`); a job
        whose ``enqueued_index`` is at least this value was enqueued after reading it."""
        return self._enqueued_total

    @property
    def performed_total(self) -> int:
        """How many runs ever started here (not reset by :meth:`clear`)."""
        return self._performed_total

    # -- enqueue side --------------------------------------------------------------------

    def enqueue(self, job: Job) -> None:
        if self._keys.claim(job, self, self._replacer(job, None)):  # flow: unique
            self._record(
                RecordedJob(
                    payload_copy(job),
                    rate_limits=rate_limits_of(job),
                    concurrency=concurrency_slots(job),
                )
            )

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        if self._keys.claim(job, self, self._replacer(job, timestamp)):  # flow: unique
            self._record(
                RecordedJob(
                    payload_copy(job),
                    at=timestamp,
                    rate_limits=rate_limits_of(job),
                    concurrency=concurrency_slots(job),
                )
            )

    def _replacer(self, job: Job, at: float | None) -> Callable[[str], bool]:
        """``replace`` for the unique keys: the waiting holder takes ``job``'s payload
        (keeping its own ``job_id``) and run time."""

        def replace(holder_id: str) -> bool:
            with self._lock:
                for recorded in self.enqueued_jobs:
                    if recorded.job_id == holder_id and not recorded.performed:
                        recorded.payload = {**payload_copy(job), "job_id": holder_id}
                        recorded.at = at
                        return True
            return False

        return replace

    def _record(self, recorded: RecordedJob) -> None:
        with self._lock:
            recorded.enqueued_index = self._enqueued_total
            self._enqueued_total += 1
            self.enqueued_jobs.append(recorded)
            select = self._modes[-1] if self._modes else self.perform_enqueued
        if select is True or (callable(select) and select(recorded)):
            self.perform(recorded)

    # -- performing ----------------------------------------------------------------------

    def perform(self, recorded: RecordedJob) -> Outcome:
        """Run one recorded job now, moving it from ``enqueued_jobs`` to ``performed_jobs``.

        The outcome is settled as ``perform_now`` settles it (``settle``): a retry
        is enqueued again through the job's adapter; a job that fails raises its
        exception here.
        """
        with self._lock:
            # As Rails' test adapter does: a performed job is no longer enqueued, so
            # assert_enqueued_jobs after performing counts only what still waits.
            if recorded in self.enqueued_jobs:
                self.enqueued_jobs.remove(recorded)
            recorded.performed_index = self._performed_total
            self._performed_total += 1
            self.performed_jobs.append(recorded)
        self._keys.started(recorded.job_id)  # flow: unique
        outcome = self._run(recorded.payload)
        recorded.outcome = outcome
        self._keys.finished(recorded.job_id, again=outcome.retry is not None)
        settle(outcome)
        return outcome

    def _run(self, payload: dict[str, Any]) -> Outcome:
        rule = self.stop_rule
        if rule is None:
            return run(payload, adapter=self)  # nothing stops a job here
        try:
            job = cast("Job", JobCore.deserialize(payload))
        except DeserializationError:
            return run(payload, adapter=self)
        return run(job, adapter=self, stopping=lambda: rule(job))

    def perform_enqueued_jobs(self, select: Selector | None = None) -> int:
        """Run every job enqueued and not yet performed that ``select`` accepts
        (all by default), in order; returns how many ran.

        Jobs those jobs enqueue are recorded, not run: call again to run them.
        """
        accept = select or _every_job
        with self._lock:
            todo = [r for r in self.enqueued_jobs if not r.performed and accept(r)]
        count = 0
        for recorded in todo:
            if not recorded.performed:  # a job before it may have run it already
                self.perform(recorded)
                count += 1
        return count

    @contextmanager
    def performing(self, select: Selector | None = None) -> Iterator[None]:
        """Inside the block, run each job ``select`` accepts (all by default) as
        soon as it is enqueued, jobs those jobs enqueue included. Blocks nest;
        the innermost decides.

        Example::

            with adapter.performing():
                ReportJob.perform_later(42)   # runs here
        """
        mode = select or _every_job
        with self._lock:
            self._modes.append(mode)
        try:
            yield
        finally:
            with self._lock:
                for index in range(len(self._modes) - 1, -1, -1):
                    if self._modes[index] is mode:
                        del self._modes[index]
                        break

    # -- forgetting ----------------------------------------------------------------------

    def clear_enqueued_jobs(self) -> None:
        """Forget every enqueued job (those not yet performed will not be)."""
        with self._lock:
            self.enqueued_jobs.clear()
            self._keys.clear()

    def clear_performed_jobs(self) -> None:
        """Forget every performed job."""
        with self._lock:
            self.performed_jobs.clear()

    def clear(self) -> None:
        """Forget every enqueued and performed job."""
        with self._lock:
            self.enqueued_jobs.clear()
            self.performed_jobs.clear()
            self._keys.clear()
