"""The values that cross the storage interface: a stored job's state, the
:class:`NewJob` an adapter pushes, the :class:`ClaimedJob` a worker runs and the
:class:`Result` it reports, and what operators read (:class:`JobInfo`,
:class:`QueueInfo`) and select with (:class:`JobFilter`).

The :class:`~activejob.storage.base.Storage` methods take and return them
(``Storage`` below); import them from :mod:`activejob.storage.base`, which
re-exports every one.

Example::

    from activejob.storage.base import JobFilter, JobState

    storage.list(JobFilter(states=[JobState.FAILED], limit=20))
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activejob.errors import MESSAGE_LIMIT, shorten
from activejob.storage.concurrency import ConcurrencySlot

__all__ = [
    "CLAIMABLE_STATES",
    "FINISHED_STATES",
    "RESULT_STATES",
    "TRACEBACK_LIMIT",
    "ClaimedJob",
    "Duplicate",
    "ErrorInfo",
    "JobFilter",
    "JobInfo",
    "JobState",
    "NewJob",
    "QueueInfo",
    "Result",
]

TRACEBACK_LIMIT = 50_000
"""Characters of a stored traceback kept (its end, where the innermost frames are)."""


class JobState(str, enum.Enum):
    """Where a stored job is in its life."""

    SCHEDULED = "scheduled"
    READY = "ready"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DISCARDED = "discarded"
    # flow: concurrency
    BLOCKED = "blocked"
    """Waiting for a slot of a concurrency limit (``limits_concurrency``)."""

    @property
    def finished(self) -> bool:
        """Whether the job will not run again unless an operator retries it."""
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.DISCARDED})
"""States a job stays in until an operator retries it or it is pruned."""
CLAIMABLE_STATES = frozenset({JobState.READY, JobState.SCHEDULED})
"""States a worker may claim from once ``run_at`` has come."""
RESULT_STATES = frozenset(FINISHED_STATES | {JobState.SCHEDULED, JobState.READY})
"""States a :class:`Result` may move a running job to."""


@dataclass(frozen=True)
class NewJob:
    """A job to store, as the adapter hands it over.

    Example::

        NewJob(job.job_id, job.job_class_name, "default", 0, json.dumps(job.serialize()))
    """

    job_id: str
    job_class: str
    queue_name: str
    priority: int
    """Smaller runs first; ``None`` from the job is stored as 0."""
    payload: str
    """The job's JSON payload, already encoded."""
    run_at: float | None = None
    """Epoch seconds; ``None`` means ready now."""
    # flow: unique (activejob.flow.unique) -----------------------------------------
    unique_key: str | None = None
    """The job's unique key; ``None`` for a job that is not unique."""
    unique_until: str = "finished"
    """``"started"`` or ``"finished"``: the states the key is held in
    (:func:`activejob.flow.unique.holds_key`)."""
    unique_within: float | None = None
    """Seconds from now the key is held whatever the job's state (``until`` unused)."""
    unique_on_conflict: str = "skip"
    """``"replace"`` moves this job's payload and run time into a waiting holder;
    anything else stores nothing on a conflict."""
    # -- flow: rate limits
    rate_limits: str | None = None
    """The job's rate limits, resolved (``flow.rate.encode_limits``); ``None``: none."""

    # flow: concurrency
    concurrency: tuple[ConcurrencySlot, ...] = ()
    """The limits the job runs under (``limits_concurrency``); empty for none."""


@dataclass(frozen=True)
class Duplicate:
    """What :meth:`Storage.push` returns, in place of a storage id, for a unique job
    whose key another stored job holds (flow: unique)."""

    job_id: str
    """The ``job_id`` of the job holding the key."""
    id: Any
    """Its storage id."""
    replaced: bool = False
    """Whether that waiting job took this job's payload and run time (``replace``)."""


@dataclass
class ClaimedJob:
    """A job a worker claimed and must report a :class:`Result` for."""

    id: Any
    """The storage's own id of the row (not the job's ``job_id``)."""
    job_id: str
    queue_name: str
    payload: str
    attempts: int
    """How many times the job has been claimed, this claim included."""
    job_class: str | None = None
    """The class the row names (for the worker's message about a job it cannot load)."""
    defect: str | None = None
    """Why the stored row cannot run (a column a hostile or buggy writer corrupted);
    the worker then fails the job with a ``DeserializationError`` saying so."""


@dataclass(frozen=True)
class ErrorInfo:
    """The exception that ended a run, as stored for operators."""

    exception_class: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        """Describe ``exc`` with its class, message and formatted traceback.

        The message keeps at most :data:`~activejob.errors.MESSAGE_LIMIT` characters
        and each traceback line as many (see :func:`~activejob.errors.shorten`), so a
        huge offending value is never stored whole.

        Example::

            ErrorInfo.from_exception(ValueError("bad")).exception_class  # 'builtins.ValueError'
        """
        import traceback

        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        text = "".join(shorten(line, MESSAGE_LIMIT) for line in "".join(lines).splitlines(True))
        if len(text) > TRACEBACK_LIMIT:
            # The innermost frames and the exception line are at the end.
            text = (
                f"… ({len(text) - TRACEBACK_LIMIT:,} characters left out)\n"
                + text[-TRACEBACK_LIMIT:]
            )
        return cls(
            f"{type(exc).__module__}.{type(exc).__qualname__}",
            shorten(str(exc), MESSAGE_LIMIT),
            text,
        )


@dataclass(frozen=True)
class Result:
    """How a claimed job ended, for :meth:`Storage.complete`.

    ``state`` is ``succeeded``, ``failed`` or ``discarded`` (finished), or
    ``scheduled`` for a retry (``payload``, ``run_at`` and optionally
    ``queue_name``/``priority`` carry the retried job), or ``ready`` to release a
    job unrun (a draining worker). ``error`` is kept as the job's last error.

    ``attempts`` is the :attr:`ClaimedJob.attempts` of the claim this result
    answers: when given, a result for a claim that is no longer current (the job
    was recovered and claimed again elsewhere) is ignored.

    Example::

        Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)
    """

    id: Any
    state: JobState
    error: ErrorInfo | None = None
    payload: str | None = None
    run_at: float | None = None
    queue_name: str | None = None
    priority: int | None = None
    attempts: int | None = None
    # -- results: return values (django.tasks) ------------------------------------------
    return_value: str | None = None
    """The JSON text of what a succeeded job returned, kept with it (at most
    :data:`~activejob.storage.return_value.RETURN_VALUE_LIMIT` bytes); ``None`` keeps none."""


@dataclass
class JobInfo:
    """One stored job, for ``activejob.status``, the CLI and the dashboard."""

    id: Any
    job_id: str
    job_class: str
    queue_name: str
    priority: int
    state: JobState
    attempts: int
    payload: dict[str, Any]
    created_at: datetime
    run_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker_id: str | None = None
    heartbeat_at: datetime | None = None
    error: ErrorInfo | None = None
    crashes: int = 0
    # -- results: return values (django.tasks) ------------------------------------------
    return_value: str | None = None
    """The JSON text a succeeded job's :class:`Result` kept, or ``None``."""
    # flow: cancellation
    cancel_requested: bool = False
    """A running job asked to stop (``activejob.cancel``) that has not ended yet."""
    # flow: unique -------------------------------------------------------------------
    unique_key: str | None = None
    """The job's unique key (``None``: not a unique job)."""
    unique_until: str | None = None
    unique_expires_at: datetime | None = None
    """When a ``within`` key stops being held."""
    unique_held: bool | None = None
    """Whether the job holds its key now (``None``: not a unique job)."""
    # -- flow: rate limits
    rate_limited_until: datetime | None = None
    """For a ready job held back by a full rate-limit window: when it frees."""
    # flow: concurrency
    blocked_by: str | None = None
    """The concurrency key whose slots are all taken, for a ``blocked`` job."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: times in ISO 8601, the state and error as plain values.

        Example::

            json.dumps(storage.get(job_id).to_dict())
        """
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, JobState):
                value = value.value
            elif isinstance(value, ErrorInfo):
                value = {
                    "exception_class": value.exception_class,
                    "message": value.message,
                    "traceback": value.traceback,
                }
            data[name] = value
        return data


@dataclass
class QueueInfo:
    """A queue's name, whether it is paused, and its jobs by state. A count in
    ``capped`` is a lower bound (a SQL store counts up to ``COUNT_CAP``);
    ``oldest_ready_at`` is the ``run_at`` of its oldest ready job, if known."""

    name: str
    paused: bool
    counts: dict[JobState, int] = field(default_factory=dict)
    capped: frozenset[JobState] = frozenset()
    oldest_ready_at: datetime | None = None


@dataclass(frozen=True)
class JobFilter:
    """Which jobs an operator means: by state, queue, class, ids, or an id prefix.

    ``limit``/``offset`` page :meth:`Storage.list`; :meth:`Storage.retry` and
    :meth:`Storage.discard` act on every match and ignore them.
    ``job_id_prefix`` matches the jobs whose ``job_id`` starts with it, exactly
    (case-sensitive, no wildcards), as ``activejob jobs show 0b6c`` does.

    Example::

        JobFilter(states=[JobState.FAILED], queue_name="mailers", limit=20)
        JobFilter(job_id_prefix="0b6c2f", limit=10)
    """

    states: Sequence[JobState] | None = None
    queue_name: str | None = None
    job_class: str | None = None
    job_ids: Sequence[str] | None = None
    job_id_prefix: str | None = None
    limit: int | None = 100
    offset: int = 0
