"""Timeouts and cancel requests of a running job (DESIGN §8).

A job's ``timeout`` (a class attribute, ``@job(timeout=...)`` or
``set(timeout=...)``, in seconds or a ``timedelta``) bounds one run. The
:class:`RunControl` of a job holds the deadline of its run in progress and any
cancel request; :func:`guarded` is what :func:`activejob.job.execution.wrapped`
holds around the run when either may apply:

- an ``async def`` job's task is cancelled when the deadline passes (or a
  cancel is asked for), and the ``CancelledError`` leaves the run as
  :class:`~activejob.JobTimeout` (or :class:`~activejob.JobCancelled`);
- a sync job cannot be interrupted from outside: ``self.checkpoint()`` raises
  the error when the deadline has passed or a cancel is pending (a
  continuation's step checkpoints check too). A worker records a sync job that
  never checks as timed out itself, once :func:`overdue` says so.

Example::

    class ExportJob(Job):
        timeout = 30                      # seconds; or timedelta(minutes=5)

        def perform(self, rows: list[int]) -> None:
            for row in rows:
                self.checkpoint()         # JobTimeout once 30 s have passed
                export(row)
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AbstractContextManager
from datetime import timedelta
from types import TracebackType
from typing import Any

from activejob.errors import JobCancelled, JobTimeout

__all__ = ["RunControl", "control_of", "guarded", "overdue", "timeout_seconds"]

_CREATE = threading.Lock()


def timeout_seconds(value: object, where: str = "timeout") -> float | None:
    """``value`` as seconds: ``None`` (no limit), a positive number or a positive
    ``timedelta``; anything else raises ``TypeError`` / ``ValueError`` naming ``where``.

    Example::

        timeout_seconds(timedelta(minutes=1))   # 60.0
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"{where} must be seconds or a timedelta (None: no limit), got {type(value).__name__}"
        )
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{where} must be a positive, finite duration, got {value!r}")
    return seconds


class RunControl:
    """The deadline of a job's run in progress and any cancel request, shared by
    the thread running it and whoever asks it to stop (a worker's overseer).

    Thread-safe. An async run registers its task, so :meth:`request_cancel` and
    the deadline can cancel it on its loop.
    """

    __slots__ = (
        "_cancelled_task",
        "_job",
        "_loop",
        "_task",
        "_timer",
        "abandoned",
        "cancel_requested",
        "deadline",
        "expired",
        "timeout",
    )

    def __init__(self, job: Any) -> None:
        self._job = job
        self.timeout: float | None = None
        self.deadline: float | None = None
        """When the run in progress times out (``time.monotonic()``), or ``None``."""
        self.cancel_requested = False
        self.expired = False
        """Whether the deadline passed while the run was in progress."""
        self.abandoned = False
        """Whether a worker recorded the run as timed out while its thread ran on."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._cancelled_task = False

    @property
    def job_name(self) -> str:
        """The job's class and id, for messages."""
        return f"{self._job.job_class_name} {self._job.job_id}"

    # -- asked from anywhere --------------------------------------------------------

    def request_cancel(self) -> None:
        """Ask the run to stop: an async task is cancelled on its loop; a sync job
        raises :class:`~activejob.JobCancelled` at its next checkpoint (or at once,
        if it has not started)."""
        self.cancel_requested = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._cancel_task, task)

    def error(self) -> JobCancelled | JobTimeout | None:
        """The error a checkpoint raises now, if any (a cancel wins over a timeout)."""
        if self.cancel_requested:
            return JobCancelled(f"{self.job_name} was cancelled while it ran")
        if self.expired or (self.deadline is not None and time.monotonic() >= self.deadline):
            self.expired = True
            error = JobTimeout(f"{self.job_name} ran longer than its timeout of {self.timeout:g}s")
            error.seconds = self.timeout
            return error
        return None

    def check(self) -> None:
        """Raise :meth:`error`, if any: what ``Job.checkpoint()`` does."""
        error = self.error()
        if error is not None:
            raise error

    # -- the run --------------------------------------------------------------------

    def begin(self, timeout: float | None, on_loop: bool) -> None:
        """A run starts (``on_loop``: an async job, in the current task)."""
        self.timeout, self.expired, self._cancelled_task = timeout, False, False
        self.abandoned = False
        self.deadline = None if timeout is None else time.monotonic() + timeout
        if on_loop:
            # No lock: request_cancel() sets the flag, then reads the task; this sets
            # the task, then reads the flag (below). Under the GIL one of the two sees
            # the other's write, so a request is never lost.
            task = asyncio.current_task()
            assert task is not None, "an async job runs in a task"
            self._loop, self._task = task.get_loop(), task
            if timeout is not None:
                self._timer = self._loop.call_later(timeout, self._expire)
        if self.cancel_requested:
            self.check()  # a cancel asked before the run started

    def end(self) -> None:
        """The run is over (its deadline no longer applies)."""
        self._loop = self._task = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.deadline = None

    def _expire(self) -> None:
        self.expired = True
        task = self._task
        if task is not None:
            self._cancel_task(task)

    def _cancel_task(self, task: asyncio.Task[Any]) -> None:
        # On the loop: the task is suspended at an await, which raises CancelledError.
        if self._task is task and not task.done():
            self._cancelled_task = True
            task.cancel()

    def took_back(self) -> bool:
        """After a ``CancelledError``: whether this control cancelled the task (and
        no one else did), so the run ends with :meth:`error` instead."""
        if not self._cancelled_task:
            return False
        task = asyncio.current_task()
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+
        # Cancelled by someone else too (a worker's drain): let that cancellation go on.
        return uncancel is None or uncancel() == 0


def control_of(job: Any) -> RunControl:
    """The :class:`RunControl` of ``job``, made on first use (thread-safe)."""
    control: RunControl | None = job._activejob_control
    if control is None:
        with _CREATE:
            control = job._activejob_control
            if control is None:
                control = RunControl(job)
                job._activejob_control = control
    return control


class guarded:
    """Hold ``own`` (the job's own wrapper) inside a run with a deadline and a
    cancel request: a cancelled async task, or a run that ends in any error while a
    cancel is pending, leaves as :class:`~activejob.JobCancelled` or
    :class:`~activejob.JobTimeout`, which the job's rules then see.

    A class rather than a generator: every ``async def`` job's run enters one.
    """

    __slots__ = ("_control", "_on_loop", "_own", "_timeout")

    def __init__(
        self,
        control: RunControl,
        timeout: float | None,
        own: AbstractContextManager[None],
        on_loop: bool,
    ) -> None:
        self._control, self._timeout, self._own, self._on_loop = control, timeout, own, on_loop

    def __enter__(self) -> None:
        self._control.begin(self._timeout, self._on_loop)
        try:
            self._own.__enter__()
        except BaseException:
            self._control.end()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        control = self._control
        current = exc
        try:
            try:
                if self._own.__exit__(kind, exc, tb):
                    current = None  # the job's own wrapper swallowed it
            except BaseException as raised:  # it raised instead (a Resumption, ...)
                current = raised
            error = _leaving_as(control, current)
        finally:
            control.end()
        if error is not None:
            raise error from current
        if current is not None and current is not exc:
            raise current
        return current is None


def _leaving_as(control: RunControl, exc: BaseException | None) -> BaseException | None:
    """What the run leaves with instead of ``exc`` (``None``: ``exc`` itself)."""
    if exc is None:
        # An async task that swallowed the CancelledError this control caused.
        return control.error() if control._cancelled_task else None
    if isinstance(exc, asyncio.CancelledError):
        return control.error() if control.took_back() else None
    if isinstance(exc, (JobCancelled, JobTimeout)) or not isinstance(exc, Exception):
        return None
    # A cancel wins over the job's own error (and so over a retry).
    return control.error() if control.cancel_requested else None


def overdue(control: RunControl | None, grace: float, now: float | None = None) -> bool:
    """Whether a run has gone ``grace`` seconds past its deadline without ending:
    a sync job that never checks, or an async one that ignores its cancellation."""
    if control is None or control.deadline is None:
        return False
    return (time.monotonic() if now is None else now) >= control.deadline + grace
