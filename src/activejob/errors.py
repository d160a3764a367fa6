"""The exceptions activejob raises.

Every exception derives from :class:`ActiveJobError`, so ``except ActiveJobError``
catches anything the library itself refuses. :class:`Abort` is the exception a
callback raises to stop a chain; it is not an error.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MESSAGE_LIMIT",
    "QUOTE_LIMIT",
    "Abort",
    "ActiveJobError",
    "ConfigurationError",
    "ContinuationError",
    "DeserializationError",
    "DuplicateJobError",
    "EnqueueError",
    # flow: timeouts and cancellation
    "JobCancelled",
    "JobNotFound",
    "JobTimeout",
    "RecordNotFound",
    "ResumptionLimitError",
    "ReturnValueError",
    "SerializationError",
    "UnknownJobClassError",
    "shorten",
]

QUOTE_LIMIT = 200
"""Characters of an offending value (a class name, a stored text) an error message quotes."""
MESSAGE_LIMIT = 1000
"""Characters of an error message kept, in (de)serialization errors and stored errors."""


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` itself when short, else its first ``limit`` characters and its length,
    so that a hostile 5 MB value never becomes a 5 MB message or stored error.

    Example::

        shorten("x" * 5_000_000)  # 'xxx…x… (5,000,000 characters)', 200 x's
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


class ActiveJobError(Exception):
    """Base class of every error raised by activejob."""


class ConfigurationError(ActiveJobError):
    """The configuration names something that cannot work (an unknown adapter, ...)."""


class SerializationError(ActiveJobError, TypeError):
    """An argument cannot be turned into JSON; nothing was enqueued.

    The message names the argument (position or keyword, and the path inside
    containers) and its type::

        SerializationError: argument 'user' (keyword) of type 'Session' is not supported

    A message longer than :data:`MESSAGE_LIMIT` is shortened (see :func:`shorten`).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*_shortened(args))


class DeserializationError(ActiveJobError):
    """A payload cannot be turned back into a job or its arguments.

    Raised for a malformed payload, an unknown job class, an unknown argument
    type or a record that no longer exists. Workers record such a job as failed;
    a job may ``discard_on(DeserializationError)`` to drop it instead. A message
    longer than :data:`MESSAGE_LIMIT` is shortened (see :func:`shorten`).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*_shortened(args))


class UnknownJobClassError(DeserializationError):
    """The payload names a job class that is not a registered ``Job`` subclass."""


class RecordNotFound(DeserializationError):
    """A GlobalID argument points at a record that no longer exists."""


class EnqueueError(ActiveJobError):
    """The backend refused the job; the cause is chained as ``__cause__``."""


# flow: unique
class DuplicateJobError(EnqueueError):
    """A ``@unique(on_conflict="raise")`` job's key is held by another stored job.

    ``duplicate_of`` is that job's ``job_id``; ``key`` the unique key. Nothing was
    enqueued for the new job.
    """

    def __init__(self, message: str, *, duplicate_of: str, key: str | None = None) -> None:
        super().__init__(message)
        self.duplicate_of = duplicate_of
        self.key = key


class ContinuationError(ActiveJobError):
    """A :class:`~activejob.Continuable` job used its steps wrongly (a step inside
    a step, a name used twice) or its steps no longer match the progress it
    carries (the code changed between an interruption and the resume)."""


class ResumptionLimitError(ContinuationError):
    """A continuation was interrupted once more after ``max_resumptions`` resumes:
    the job fails with this error instead of being enqueued again."""


# -- flow: timeouts and cancellation ---------------------------------------------------


class JobTimeout(ActiveJobError):
    """A run went past the job's ``timeout``: an ``async def`` job's task was
    cancelled, a sync job met it at ``self.checkpoint()``, or the worker recorded
    it for a sync job that never checked. The job's rules see it like any error,
    so ``retry_on(JobTimeout)`` retries a job that timed out."""

    seconds: float | None = None
    """The timeout that was exceeded."""

    @classmethod
    def after(cls, job: Any, seconds: float | None) -> JobTimeout:
        """The error of ``job`` (its class name and id in the message) after ``seconds``."""
        limit = "its timeout" if seconds is None else f"its timeout of {seconds:g}s"
        error = cls(f"{job.job_class_name} {job.job_id} ran longer than {limit}")
        error.seconds = seconds
        return error


class JobCancelled(ActiveJobError):
    """The job was cancelled (``activejob.cancel(job_id)``): raised at a running
    sync job's next ``self.checkpoint()`` (an ``async def`` job's task is
    cancelled). The job ends ``discarded`` with this error; no rule retries it."""


class JobNotFound(ActiveJobError, LookupError):
    """No stored job has this ``job_id`` (``activejob.cancel``, ``activejob jobs cancel``)."""


class Abort(Exception):
    """Raised by a *before* callback to stop the chain.

    A before-enqueue callback that raises ``Abort`` leaves the job unenqueued
    (``successfully_enqueued is False``); a before-perform callback that raises
    it skips ``perform``.
    """


# -- results: return values (django.tasks) ----------------------------------------------
class ReturnValueError(ActiveJobError):
    """A job that keeps its return value returned one that cannot be kept: not JSON,
    or more than :data:`~activejob.storage.return_value.RETURN_VALUE_LIMIT` bytes of
    it. The job is recorded as failed with this error (its work is not lost: the
    row stays, with the reason)."""


def _shortened(args: tuple[Any, ...]) -> tuple[Any, ...]:
    if args and isinstance(args[0], str):
        return (shorten(args[0], MESSAGE_LIMIT), *args[1:])
    return args
