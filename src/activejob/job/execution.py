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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, cast, overload

from activejob import events
from activejob.errors import Abort, DeserializationError, JobCancelled, JobTimeout
from activejob.flow.timeouts import RunControl, control_of, guarded, timeout_seconds
from activejob.job import rules
from activejob.job.callbacks import CallbackRun
from activejob.job.core import JobCore
from activejob.job.options import HasAsyncPerform, HasPerform, P, R, R_co

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

OutcomeKind = Literal["succeeded", "retry", "discarded", "failed", "resumed"]

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


@dataclass
class Outcome:
    """How one execution ended.

    ``kind`` is ``"succeeded"`` (``value`` holds perform's result; also when a
    before-perform callback aborted, with ``halted`` true, or a ``rescue_from``
    handled the error), ``"retry"`` (``retry`` holds the decision to apply),
    ``"discarded"`` or ``"failed"`` (``exception`` is set), or ``"resumed"`` (a
    continuation stopped at a checkpoint, or failed after progress, with
    ``exception`` set then: enqueue it again at once, its progress in the
    payload). ``job`` is ``None`` only when the payload could not be turned into
    a job.
    """

    kind: OutcomeKind
    job: Job | None
    value: Any = None
    exception: BaseException | None = None
    retry: rules.RetryDecision | None = None
    halted: bool = False


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


def settle(outcome: Outcome) -> Any:
    """Carry out an outcome the way Active Job does and return perform's value.

    The one place outside a worker that acts on an outcome (``perform_now``,
    :func:`execute`, and the inline, async and test adapters): a retry is
    enqueued again by :meth:`~activejob.job.enqueuing.Enqueuing.retry_job` (which
    emits ``enqueue_retry``) and returns ``None``; a resumed continuation is
    enqueued again at once through its adapter and returns ``None``; a failure
    raises its exception; a success or a discard returns the value (``None``
    for a discard). A worker
    stores outcomes instead, in :mod:`activejob.worker.outcomes`.
    """
    if outcome.kind == "retry":
        assert outcome.job is not None and outcome.retry is not None
        outcome.job.retry_job(outcome.retry)
        return None
    if outcome.kind == "failed":
        assert outcome.exception is not None
        raise outcome.exception
    if outcome.kind == "resumed":
        assert outcome.job is not None
        outcome.job.scheduled_at = None  # at once
        outcome.job.enqueue()
        return None
    return outcome.value


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
        return _finish(job, adapter, started, outcome)
    except Exception as exc:
        return _finish(job, adapter, started, _failed(job, exc, adapter))
    except BaseException as exc:
        _interrupted(job, adapter, started, exc)
        raise
    return _finish(job, adapter, started, Outcome("succeeded", job, value))


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


def _failed(
    job: Job, exc: Exception, adapter: Adapter | None, *, abandoned: bool = False
) -> Outcome:
    if isinstance(exc, Abort):
        return Outcome("succeeded", job, halted=True)
    if isinstance(exc, JobTimeout):  # flow: timeouts; then the rules decide, as for any error
        events.emit(
            "timeout", job, adapter, exception=exc, timeout=exc.seconds, abandoned=abandoned
        )
    elif isinstance(exc, JobCancelled):  # flow: cancellation ends the job, whatever its rules
        events.emit("discard", job, adapter, exception=exc, reason="cancel")
        return _after_discard(job, Outcome("discarded", job, exception=exc))
    try:
        decision = rules.decide(job, exc)
    except Exception as handler_error:
        # A handler (on_discard, on_exhausted, rescue_from) that raises fails the job.
        exc, decision = handler_error, None
    if isinstance(decision, rules.RetryDecision):
        return Outcome("retry", job, exception=exc, retry=decision)
    if isinstance(decision, rules.RescuedDecision):
        return Outcome("succeeded", job, value=decision.value, exception=exc)
    outcome = Outcome("discarded" if decision else "failed", job, exception=exc)
    if decision is not None:
        events.emit("discard", job, adapter, exception=exc, reason=decision.reason)
    return _after_discard(job, outcome)


def abandoned(job: Job, adapter: Adapter | None) -> Outcome:
    """How a run ends that went past its timeout and never reached a checkpoint,
    decided while its thread still runs (a worker records it and never waits for
    the thread): a :class:`~activejob.JobTimeout` judged by the job's rules, so
    ``retry_on(JobTimeout)`` applies. Emits ``timeout`` (``abandoned: True``)."""
    control = control_of(job)
    error = control.error()
    if not isinstance(error, JobTimeout):
        error = JobTimeout.after(job, timeout_seconds(job.timeout))
    control.abandoned = True  # the thread's own end, if it comes, reports nothing
    outcome = _failed(job, error, adapter, abandoned=True)
    events.emit(
        "perform",
        job,
        adapter,
        duration=control.timeout,
        exception=outcome.exception,
        outcome=outcome.kind,
        halted=False,
    )
    return outcome


def _after_discard(job: Job, outcome: Outcome) -> Outcome:
    chain = job._activejob_callbacks.get("discard", ())
    for _, callback in reversed(chain):
        try:
            callback(job, outcome.exception)
        except Exception as exc:
            return Outcome("failed", job, exception=exc)
    return outcome


def _finish(job: Job, adapter: Adapter | None, started: float, outcome: Outcome) -> Outcome:
    control = job._activejob_control
    if control is not None and control.abandoned:
        return outcome  # flow: timeouts. Its worker reported this run's end already.
    events.emit(
        "perform",
        job,
        adapter,
        duration=time.perf_counter() - started,
        exception=outcome.exception if outcome.kind != "succeeded" else None,
        outcome=outcome.kind,
        halted=outcome.halted,
    )
    return outcome


def _interrupted(job: Job, adapter: Adapter | None, started: float, exc: BaseException) -> None:
    # Not the job's failure (KeyboardInterrupt, a cancelled task), but every
    # perform_start gets its perform, so spans and gauges are closed.
    duration = time.perf_counter() - started
    events.emit(
        "perform",
        job,
        adapter,
        duration=duration,
        exception=exc,
        outcome="interrupted",
        halted=False,
    )


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
