"""From a claimed row to a job, and from an :class:`Outcome` to a storage :class:`Result`.

The worker never reaches into rules: ``run``/``arun`` decide, this module turns
the decision into the value the storage records. A payload that cannot become a
job (not JSON, unknown class, malformed) is failed with the
:class:`~activejob.DeserializationError` that says why, and the worker goes on.

Worker hooks (see ``docs/worker.md``): ``job_failed`` is emitted here when a job
is recorded as failed; ``enqueue_retry`` when a retry is stored, by the job's own
``retry_job`` (the one emitter of that event, given the worker's adapter);
``perform_start``, ``perform`` and ``discard`` come from the core.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from activejob import _time, events
from activejob.errors import (
    DeserializationError,
    ReturnValueError,
    UnknownJobClassError,
    shorten,
)
from activejob.job.core import JobCore
from activejob.storage.base import ClaimedJob, ErrorInfo, JobState, Result
from activejob.storage.decode import load_object
from activejob.storage.return_value import encode_return_value

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job
    from activejob.job.execution import Outcome

__all__ = [
    "Tally",
    "crashed",
    "error_info",
    "is_resumption",
    "load_job",
    "plural",
    "released",
    "result_for",
]

logger = logging.getLogger("activejob.worker")


def load_job(claimed: ClaimedJob) -> Job | Result:
    """The job a claimed row holds, or a failed :class:`Result` saying why it cannot run.

    Arguments stay encoded: one that cannot be decoded fails inside ``run``,
    where the job's own ``discard_on``/``retry_on`` rules see it. A job that cannot
    be loaded is logged at ERROR with the reason and the fix.
    """
    job_class: object = claimed.job_class
    try:
        if claimed.defect is not None:
            raise DeserializationError(claimed.defect)
        data = load_object(claimed.payload, f"the payload of job {claimed.job_id}")
        job_class = data.get("job_class") or job_class
        job: Job = JobCore.deserialize(data)  # type: ignore[assignment]
    except Exception as exc:  # DeserializationError, or a bug it should have been
        _log_unloadable(claimed, job_class, exc)
        return _failed(claimed, None, exc)
    return job


def _log_unloadable(claimed: ClaimedJob, job_class: object, exc: Exception) -> None:
    if isinstance(exc, UnknownJobClassError):
        fix = ""  # the message says it
    elif isinstance(exc, DeserializationError):
        fix = (
            f"; the stored job is damaged: inspect it with `activejob jobs show "
            f"{claimed.job_id}`, then retry it once fixed or `activejob jobs discard` it"
        )
    else:
        fix = "; this is a bug in the job class or in activejob: please report it"
    name = shorten(job_class, 120) if isinstance(job_class, str) else "unknown"
    logger.error(
        "cannot load job %s (class %s) from queue %s: %s: %s%s; it is recorded as failed",
        claimed.job_id,
        name,
        claimed.queue_name,
        type(exc).__name__,
        error_info(exc).message,
        fix,
    )


def result_for(claimed: ClaimedJob, outcome: Outcome, adapter: Adapter | None = None) -> Result:
    """What the storage records for ``claimed`` after it ran with ``outcome``
    (``adapter``, the worker's, is named in the retry event)."""
    job = outcome.job
    if outcome.kind == "succeeded":
        return _succeeded(claimed, job, outcome)
    if outcome.kind == "retry" and job is not None and outcome.retry is not None:
        return _retry(claimed, job, outcome, adapter)
    if outcome.kind == "resumed" and job is not None:
        return _resumed(claimed, job, outcome)
    error = outcome.exception or RuntimeError(f"job ended as {outcome.kind} without an exception")
    if outcome.kind == "discarded":
        info = error_info(error)
        return Result(claimed.id, JobState.DISCARDED, error=info, attempts=claimed.attempts)
    return _failed(claimed, job, error)


def _succeeded(claimed: ClaimedJob, job: Job | None, outcome: Outcome) -> Result:
    """A success; with what ``perform`` returned, as JSON text, for a job class that
    keeps its return value (a value that cannot be kept fails the job, saying why)."""
    if job is None or outcome.value is None or not type(job).keep_return_value:
        return Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)
    try:
        kept = encode_return_value(outcome.value)
    except ReturnValueError as exc:
        return _failed(claimed, job, exc)
    return Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts, return_value=kept)


def crashed(claimed: ClaimedJob, job: Job | None, exc: BaseException) -> Result:
    """The result of a job whose run raised past ``run`` itself (``SystemExit``, ...)."""
    return _failed(claimed, job, exc)


def released(claimed: ClaimedJob) -> Result:
    """Give a claimed job back unrun (a draining worker)."""
    return Result(claimed.id, JobState.READY, attempts=claimed.attempts)


def _retry(claimed: ClaimedJob, job: Job, outcome: Outcome, adapter: Adapter | None) -> Result:
    decision = outcome.retry
    assert decision is not None

    def scheduled() -> Result:
        return Result(
            claimed.id,
            JobState.SCHEDULED,
            payload=json.dumps(job.serialize()),
            run_at=decision.at.timestamp(),
            queue_name=job.queue_name,
            priority=job.priority,
            attempts=claimed.attempts,
            # Kept as the job's last error, so status and `jobs show` say why it waits.
            error=error_info(decision.exception),
        )

    try:
        result = job.retry_job(decision, adapter=adapter, store=scheduled)
    except Exception as exc:
        # The arguments no longer encode (a custom serializer changed): keep the job
        # as failed with that reason rather than lose it.
        return _failed(claimed, job, exc)
    assert result is not None
    return result


def _resumed(claimed: ClaimedJob, job: Job, outcome: Outcome) -> Result:
    """A continuation interrupted at a checkpoint (or failed after progress): due
    again at once, its progress in the payload; neither a failure nor a retry."""
    job.scheduled_at = None
    try:
        payload = json.dumps(job.serialize())
    except Exception as exc:  # a cursor that no longer encodes: keep the job, as failed
        return _failed(claimed, job, exc)
    cause = outcome.exception
    return Result(
        claimed.id,
        JobState.SCHEDULED,
        payload=payload,
        run_at=_time.now(),
        attempts=claimed.attempts,
        error=None if cause is None else error_info(cause),
    )


def is_resumption(outcome: Outcome) -> bool:
    """Whether the run ended by handing a continuation back to resume (counted as
    ``resumed``, never as a retry)."""
    return outcome.kind == "resumed"


def _failed(claimed: ClaimedJob, job: Job | None, exc: BaseException) -> Result:
    events.emit("job_failed", job, exception=exc, job_id=claimed.job_id)
    return Result(claimed.id, JobState.FAILED, error=error_info(exc), attempts=claimed.attempts)


def error_info(exc: BaseException) -> ErrorInfo:
    """:meth:`ErrorInfo.from_exception`, even for an exception whose ``str()`` raises."""
    try:
        return ErrorInfo.from_exception(exc)
    except Exception as broken:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        return ErrorInfo(name, f"<unprintable {type(exc).__name__}: {broken!r}>", "")


_COUNTED = {
    JobState.SUCCEEDED: "succeeded",
    JobState.FAILED: "failed",
    JobState.SCHEDULED: "retried",
    JobState.DISCARDED: "discarded",
}

_FIELDS = (*_COUNTED.values(), "resumed")


@dataclasses.dataclass
class Tally:
    """How the jobs a worker ran ended, for the line that ends a burst.

    A job released unrun (a drain) is not counted; one that could not be loaded
    counts as failed.

    Example::

        tally = Tally(succeeded=10, failed=1, retried=1)
        tally.summary()  # 'ran 12 jobs: 10 succeeded, 1 failed, 1 retried, 0 discarded'
    """

    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    discarded: int = 0
    resumed: int = 0
    """Continuations handed back to resume (a stopping worker): neither failed nor retried."""
    _lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    @property
    def ran(self) -> int:
        """Jobs that ended one way or another."""
        return self.succeeded + self.failed + self.retried + self.discarded + self.resumed

    def count(self, result: Result, *, resumed: bool = False) -> None:
        """Count one recorded result (thread-safe); ``resumed``: a continuation
        handed back to resume, stored like a retry but counted apart."""
        field = "resumed" if resumed else _COUNTED.get(result.state)
        if field is not None:
            with self._lock:
                setattr(self, field, getattr(self, field) + 1)

    def add(self, other: Tally) -> None:
        """Add another worker's counts to these (a supervisor sums its processes)."""
        for field in _FIELDS:
            setattr(self, field, getattr(self, field) + getattr(other, field))

    def to_dict(self) -> dict[str, int]:
        """The counts as JSON-ready values."""
        return {field: getattr(self, field) for field in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        """The counts :meth:`to_dict` wrote."""
        tally = cls()
        for field in _FIELDS:
            setattr(tally, field, int(data.get(field, 0)))
        return tally

    def summary(self) -> str:
        """``ran 12 jobs: 10 succeeded, 1 failed, 1 retried, 0 discarded`` (and
        ``, 2 resumed`` when continuations were handed back)."""
        resumed = f", {self.resumed} resumed" if self.resumed else ""
        return (
            f"ran {plural(self.ran, 'job')}: {self.succeeded} succeeded, {self.failed} failed, "
            f"{self.retried} retried, {self.discarded} discarded{resumed}"
        )


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 job``, ``2 jobs``; ``nouns`` for another plural (``processes``)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
