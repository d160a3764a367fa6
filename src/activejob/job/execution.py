"""Running a job: ``perform_now``, and ``execute(payload)`` for workers and bridges.

One path runs every job, sync or async, inline or in a worker: count the
execution, deserialise the arguments, run ``perform`` inside the perform
callbacks, and turn an exception into a decision through the job's rules.
:func:`run` returns that as an :class:`Outcome` without applying it, for a
worker whose storage applies decisions itself; :func:`settle` applies it the
way Active Job does (a retry is enqueued again through ``retry_job``, an
unhandled exception is raised), for ``perform_now``, :func:`execute` and the
in-process adapters.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, overload

from activejob import events
from activejob.errors import DeserializationError
from activejob.flow.timeouts import RunControl, control_of, guarded, timeout_seconds
from activejob.job.callbacks import CallbackRun
from activejob.job.core import JobCore
from activejob.job.options import HasAsyncPerform, HasPerform, P, R, R_co
from activejob.job.outcome import (
    Outcome,
    abandoned,
    failure_outcome,
    report_end,
    report_interrupted,
    settle,
)

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job

__all__ = [
    "Outcome",
    "Resumption",
    "StopCheck",
    "abandoned",
    "arun",
    "execute",
    "run",
    "settle",
    "wrapped",
]


StopCheck = Callable[[], bool]
"""Asked by a running job whether whoever runs it is stopping (a worker told to
drain): ``True`` means "stop at your next checkpoint"."""


class Resumption(BaseException):
    """Raised by a run's wrapper to end the run as ``resumed``: the job is enqueued
    again at once, with the progress it carries in its payload.

    Not the job's failure and not a retry attempt: the rules never see it. A
    continuation raises it when the worker is stopping (``cause`` is ``None``) or
    when a step failed after making progress (``cause`` is that error).
    """

    def __init__(self, cause: BaseException | None = None) -> None:
        super().__init__("the job is enqueued again to resume from its progress")
        self.cause = cause


class ClassPerformNow(Protocol[P, R_co]):
    """``MyJob.perform_now``: takes ``perform``'s arguments, returns its value."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class InstancePerformNow(Protocol[R_co]):
    """``job.perform_now``: runs the job with its own arguments, returns ``perform``'s value."""

    def __call__(self) -> R_co: ...


class _PerformNow:
    """``perform_now`` on the class builds a job from the arguments and runs it; on
    an instance it runs that instance, never a new one.

    Rules apply as in a worker: a retry is enqueued through the job's adapter, a
    discard returns ``None``, an unhandled exception is raised. An ``async def
    perform`` runs on an event loop (on a helper thread if this thread is already
    running one). The execution is counted on the job (``executions``).

    Example::

        PurgeJob.perform_now(42)          # a new PurgeJob(42), run here
        job = PurgeJob(42)
        job.perform_now()                 # this job, account 42; job.executions == 1
    """

    @overload
    def __get__(
        self, instance: None, owner: type[HasAsyncPerform[P, R]]
    ) -> ClassPerformNow[P, R]: ...

    @overload
    def __get__(self, instance: None, owner: type[HasPerform[P, R]]) -> ClassPerformNow[P, R]: ...

    @overload
    def __get__(self, instance: HasAsyncPerform[P, R], owner: Any) -> InstancePerformNow[R]: ...

    @overload
    def __get__(self, instance: HasPerform[P, R], owner: Any) -> InstancePerformNow[R]: ...

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:

            def perform_now_on_class(*args: Any, **kwargs: Any) -> Any:
                return owner(*args, **kwargs).run_now()

            perform_now_on_class.__doc__ = _PerformNow.__doc__
            return perform_now_on_class

        def perform_now_on_instance(*args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                name = type(instance).__qualname__
                raise TypeError(
                    f"job.perform_now() runs the job with the arguments it was built with and "
                    f"takes none; to run a new job with these, call {name}.perform_now(...) "
                    "on the class"
                )
            return instance.run_now()

        perform_now_on_instance.__doc__ = _PerformNow.__doc__
        return perform_now_on_instance


class Execution(JobCore):
    """``perform`` and ``perform_now``."""

    _activejob_is_async: ClassVar[tuple[Callable[..., Any], bool] | None] = None
    keep_return_value: ClassVar[bool] = False
    """Whether a worker stores what ``perform`` returns with the succeeded job, as JSON
    (``JobInfo.return_value``; at most ``RETURN_VALUE_LIMIT`` bytes, else the job
    fails with ``ReturnValueError``). The ``django.tasks`` bridge sets it."""
    _activejob_stopping: StopCheck | None = None
    """Set by :func:`wrapped` for the run in progress (``None``: nobody will ask it to stop)."""
    _activejob_control: RunControl | None = None
    """The deadline and cancel request of the run (flow: timeouts), made when needed."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "timeout" in cls.__dict__:  # flow: timeouts, checked where it is declared
            timeout_seconds(cls.__dict__["timeout"], f"{cls.__qualname__}.timeout")

    def perform(self, *args: Any, **kwargs: Any) -> Any:
        """The job's work. Override it (``def`` or ``async def``)."""
        raise NotImplementedError(f"{type(self).__qualname__} must define perform()")

    @classmethod
    def is_async(cls) -> bool:
        """Whether ``perform`` is ``async def``."""
        # Asked for every job a worker runs; the answer is kept on the class for as
        # long as ``perform`` is the same function (a test may replace it).
        perform = cls.perform
        known = cls.__dict__.get("_activejob_is_async")
        if known is None or known[0] is not perform:
            known = (perform, inspect.iscoroutinefunction(perform))
            cls._activejob_is_async = known
        return known[1]

    def stop_requested(self) -> bool:
        """Whether whoever runs this job is stopping (a worker draining after
        SIGTERM) and would like it to end soon.

        Always ``False`` outside a worker (``perform_now``, the ``inline:``,
        ``async:`` and ``test:`` adapters). A :class:`~activejob.Continuable` job
        asks at each checkpoint and is enqueued again with its progress; any
        other job may return early, but it then counts as done.

        Example::

            for row in rows:
                if self.stop_requested():
                    break
        """
        stopping = self._activejob_stopping
        return stopping is not None and stopping()

    def checkpoint(self) -> None:
        """A place where this job may be stopped: raises
        :class:`~activejob.JobTimeout` once the run has gone past the job's
        ``timeout``, or :class:`~activejob.JobCancelled` once
        ``activejob.cancel(job_id)`` asked it to stop; otherwise returns at once.

        A sync job cannot be interrupted from outside: call this in its loops. An
        ``async def`` job is cancelled at its next ``await`` anyway. The steps of a
        :class:`~activejob.Continuable` job check too (``step.set``, ...).

        Example::

            for row in rows:
                self.checkpoint()
                export(row)
        """
        control = self._activejob_control
        if control is not None:
            control.check()

    def _activejob_around_run(self, adapter: Adapter | None) -> AbstractContextManager[None]:
        """What this job wraps around its own code in one execution (see
        :func:`wrapped`); nothing by default. :class:`~activejob.Continuable`
        turns an interrupted step into a :class:`Resumption` here."""
        return _NOTHING

    perform_now = _PerformNow()
    """``MyJob.perform_now(*args, **kwargs)`` builds a job and runs it here;
    ``job.perform_now()`` runs **that** job with its own arguments. Either returns
    ``perform``'s value (see :class:`_PerformNow`)."""

    def run_now(self) -> Any:
        """Run this job instance now (the instance form of :meth:`perform_now`)."""
        return settle(run(cast("Job", self)))

    async def arun_now(self) -> Any:
        """Await this job instance now, for async code."""
        return settle(await arun(cast("Job", self)))


def _load(payload: Mapping[str, Any] | Job) -> Job | Outcome:
    if isinstance(payload, JobCore):
        return payload
    try:
        return cast("Job", JobCore.deserialize(payload))
    except DeserializationError as exc:
        return Outcome("failed", None, exception=exc)


def run(
    payload: Mapping[str, Any] | Job,
    *,
    adapter: Adapter | None = None,
    stopping: StopCheck | None = None,
) -> Outcome:
    """Perform a job (or payload) once and report how it ended; applies nothing.

    Never raises for the job's own failures (``Exception``); ``BaseException``
    such as ``KeyboardInterrupt`` propagates. An async job runs on an event loop.
    ``adapter`` is the adapter running the job, named in its events;
    ``stopping`` is what the job's :meth:`~Execution.stop_requested` asks (a
    worker passes its drain flag).
    """
    job = _load(payload)
    if isinstance(job, Outcome):
        return job
    if type(job).is_async():
        return _run_coroutine(lambda: arun(job, adapter=adapter, stopping=stopping))
    steps = _execution(job, adapter, stopping, on_loop=False)
    try:
        steps.send(None)
    except StopIteration as finished:
        outcome: Outcome = finished.value
        return outcome
    steps.close()
    raise RuntimeError("a sync job's execution waited on an event loop")  # a bug


async def arun(
    payload: Mapping[str, Any] | Job,
    *,
    adapter: Adapter | None = None,
    stopping: StopCheck | None = None,
) -> Outcome:
    """:func:`run` for an event loop: awaits an async ``perform`` on this loop.

    A sync ``perform`` runs in a thread, so it never blocks the loop.
    """
    job = _load(payload)
    if isinstance(job, Outcome):
        return job
    if not type(job).is_async():
        return await asyncio.to_thread(run, job, adapter=adapter, stopping=stopping)
    return await _execution(job, adapter, stopping, on_loop=True)


async def _execution(
    job: Job, adapter: Adapter | None, stopping: StopCheck | None, *, on_loop: bool
) -> Outcome:
    """The one skeleton of an execution, for sync and async jobs alike.

    Count the execution and emit ``perform_start``; inside :func:`wrapped`, load
    the arguments and call ``perform`` within the perform callbacks; turn an
    exception into a decision through the job's rules; emit ``perform``. Only
    ``on_loop`` differs: an async job's ``perform`` is awaited (the skeleton is
    awaited by :func:`arun`); a sync job's is called, so the skeleton never
    suspends and :func:`run` steps it once.
    """
    started = _start(job, adapter)
    try:
        with wrapped(job, adapter, stopping, on_loop=on_loop):
            if on_loop and job.arguments_need_loading():
                # Loading may hit a database through a sync-only ORM (Django): not on the loop.
                await asyncio.to_thread(lambda: job.arguments)
            args, kwargs = job.arguments, job.kwargs
            chain = job._activejob_callbacks.get("perform", ())
            if not chain:
                value = job.perform(*args, **kwargs)
                if on_loop:
                    value = await value
            else:
                callback_run = CallbackRun(job, chain)
                callback_run.enter()
                try:
                    value = job.perform(*args, **kwargs)
                    if on_loop:
                        value = await value
                except BaseException as exc:
                    callback_run.exit(exc)  # raises unless an around callback swallowed it
                    value = None
                else:
                    callback_run.exit(None)
    except Resumption as resumption:
        outcome = Outcome("resumed", job, exception=resumption.cause)
        return report_end(job, adapter, started, outcome)
    except Exception as exc:
        return report_end(job, adapter, started, failure_outcome(job, exc, adapter))
    except BaseException as exc:
        report_interrupted(job, adapter, started, exc)
        raise
    return report_end(job, adapter, started, Outcome("succeeded", job, value))


def wrapped(
    job: Job, adapter: Adapter | None, stopping: StopCheck | None = None, *, on_loop: bool = False
) -> AbstractContextManager[None]:
    """The one place a run is wrapped: held around everything the job's own code
    does in one execution (argument loading, perform callbacks, ``perform``), for
    sync and async jobs alike, between the ``perform_start`` and ``perform`` events.

    This is the seam for what must surround a run: a timeout (an async job's task
    is the current task here, so it can be cancelled; a sync job can be given a
    deadline its checkpoints read), cancellation, continuation steps and progress.
    Here the job learns ``stopping`` (its :meth:`~Execution.stop_requested`), and
    its own wrapper is entered (:class:`~activejob.Continuable` keeps its steps'
    progress there). An exception raised here, on entry or exit, is the job's
    failure and goes through its rules like one raised by ``perform``, except a
    :class:`Resumption`, which ends the run as ``resumed``. See
    ``docs/execution.md``.

    A job with a ``timeout``, an ``async def`` job (``on_loop``: its task is the
    current task) and a job with a cancel request run inside
    :func:`activejob.flow.timeouts.guarded`: an async task is cancelled at the
    deadline or on ``activejob.cancel``, and leaves as ``JobTimeout`` /
    ``JobCancelled``; a sync job meets them at ``checkpoint()``. A plain sync job
    pays nothing for it.
    """
    job._activejob_stopping = stopping
    own = job._activejob_around_run(adapter)
    timeout = job.timeout
    if timeout is None and not on_loop and job._activejob_control is None:
        return own
    seconds = timeout if type(timeout) is float else timeout_seconds(timeout)
    return guarded(control_of(job), seconds, own, on_loop)


_NOTHING = contextlib.nullcontext()


def execute(payload: Mapping[str, Any]) -> Any:
    """Run a serialised job with every callback and rule: the entry point for
    workers and bridges.

    A retry is enqueued through the job's adapter; a discarded job returns
    ``None``; an unhandled exception (including :class:`DeserializationError`
    for a payload that names no known job) is raised.

    Example::

        activejob.execute(job.serialize())
    """
    return settle(run(payload))


def _start(job: Job, adapter: Adapter | None) -> float:
    job.executions += 1
    events.emit("perform_start", job, adapter)
    return time.perf_counter()


def _run_coroutine(factory: Callable[[], Awaitable[Outcome]]) -> Outcome:
    """Run a coroutine to completion from sync code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coroutine(factory))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="activejob-async") as pool:
        return pool.submit(asyncio.run, _as_coroutine(factory)).result()


async def _as_coroutine(factory: Callable[[], Awaitable[Outcome]]) -> Outcome:
    return await factory()
