"""Callbacks around enqueue and perform, and the one composer that runs them.

Mark methods with ``@before_perform``, ``@after_perform``, ``@around_perform`` (and
the ``_enqueue`` forms, and ``@after_discard``). Every callback behaves like a
context manager wrapped around the work: they nest in declaration order, so
*before* callbacks run in declaration order and *after* callbacks in reverse. An
around callback is a generator that yields exactly once::

    class ReportJob(Job):
        @around_perform
        def timed(self):
            started = time.monotonic()
            yield
            self.elapsed = time.monotonic() - started

A before callback stops the chain by raising :class:`activejob.Abort`.
Callbacks are inherited; a subclass's run inside its parents'.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import Any, Literal, TypeVar

from activejob.errors import Abort

__all__ = [
    "Abort",
    "CallbackRun",
    "after_discard",
    "after_enqueue",
    "after_perform",
    "around_enqueue",
    "around_perform",
    "before_enqueue",
    "before_perform",
]

When = Literal["before", "after", "around"]
Kind = Literal["enqueue", "perform", "discard"]
Callback = tuple[When, Callable[..., Any]]

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__activejob_callback__"


def _mark(fn: F, when: When, kind: Kind) -> F:
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"callback {fn.__qualname__} must be a plain function, not async")
    if when == "around" and not inspect.isgeneratorfunction(fn):
        raise TypeError(f"around callback {fn.__qualname__} must be a generator (yield once)")
    setattr(fn, _MARK, (when, kind))
    return fn


def before_enqueue(fn: F) -> F:
    """Mark a method to run before the job is handed to its adapter; raise
    :class:`Abort` in it to leave the job unenqueued.

    Example::

        class ReportJob(Job):
            @before_enqueue
            def only_for_real_reports(self) -> None:
                if self.arguments[0] is None:
                    raise Abort
    """
    return _mark(fn, "before", "enqueue")


def after_enqueue(fn: F) -> F:
    """Mark a method to run after the adapter took the job (not after an abort).

    Example::

        class ReportJob(Job):
            @after_enqueue
            def remember(self) -> None:
                audit.log("enqueued", self.job_id, self.provider_job_id)
    """
    return _mark(fn, "after", "enqueue")


def around_enqueue(fn: F) -> F:
    """Mark a generator method wrapped around enqueueing: the code before its one
    ``yield`` runs before, the code after it once the adapter took the job.

    Example::

        class ReportJob(Job):
            @around_enqueue
            def timed(self):
                started = time.monotonic()
                yield
                metrics.observe("enqueue_seconds", time.monotonic() - started)
    """
    return _mark(fn, "around", "enqueue")


def before_perform(fn: F) -> F:
    """Mark a method to run before ``perform``; raise :class:`Abort` in it to skip
    the job (it counts as done).

    Example::

        class ReportJob(Job):
            @before_perform
            def skip_when_paused(self) -> None:
                if reports_paused():
                    raise Abort
    """
    return _mark(fn, "before", "perform")


def after_perform(fn: F) -> F:
    """Mark a method to run after ``perform`` returned normally.

    Example::

        class ReportJob(Job):
            @after_perform
            def notify(self) -> None:
                mailer.report_ready(self.arguments[0])
    """
    return _mark(fn, "after", "perform")


def around_perform(fn: F) -> F:
    """Mark a generator method wrapped around ``perform``: it yields exactly once,
    and sees the job's exception at the ``yield`` (it may swallow it, as a context
    manager can).

    Example::

        class ReportJob(Job):
            @around_perform
            def in_a_transaction(self):
                with db.transaction():
                    yield
    """
    return _mark(fn, "around", "perform")


def after_discard(fn: F) -> F:
    """Mark a method to run with ``(self, exception)`` when the job ends for good
    without success: discarded by ``discard_on``, retries exhausted, or an exception
    no rule handled.

    Example::

        class ReportJob(Job):
            @after_discard
            def tell_someone(self, exception: BaseException) -> None:
                alerts.send(f"report {self.arguments[0]} failed: {exception!r}")
    """
    return _mark(fn, "after", "discard")


def collect(
    cls: type, inherited: dict[Kind, tuple[Callback, ...]]
) -> dict[Kind, tuple[Callback, ...]]:
    """The callbacks of ``cls``: its parents' first, then its own in declaration order.

    A method that overrides a parent's callback of the same name takes its place.
    """
    chains: dict[Kind, list[Callback]] = {k: list(v) for k, v in inherited.items()}
    for name, value in vars(cls).items():
        mark = getattr(value, _MARK, None)
        if mark is None:
            continue
        when, kind = mark
        chain = chains.setdefault(kind, [])
        replaced = [i for i, (_, fn) in enumerate(chain) if fn.__name__ == name]
        if replaced:
            chain[replaced[0]] = (when, value)
        else:
            chain.append((when, value))
    return {k: tuple(v) for k, v in chains.items() if v}


class CallbackRun:
    """One pass through a chain of callbacks around a piece of work.

    ``enter()`` runs the before parts, ``exit(error)`` the after parts in reverse.
    Sync and async work share it: the caller runs (or awaits) the work in between.
    """

    __slots__ = ("_chain", "_job", "_stack")

    def __init__(self, job: object, chain: tuple[Callback, ...]) -> None:
        self._job = job
        self._chain = chain
        self._stack: list[Callback | Generator[None, None, None]] = []

    def enter(self) -> None:
        """Run before callbacks and the first half of arounds, in declaration order.

        If one raises (``Abort`` included), the arounds already entered see the
        exception, and it propagates.
        """
        try:
            for item in self._chain:
                when, fn = item
                if when == "before":
                    fn(self._job)
                elif when == "around":
                    gen = fn(self._job)
                    next(gen)
                    self._stack.append(gen)
                else:
                    self._stack.append(item)
        except BaseException as exc:
            self.exit(exc)
            raise

    def exit(self, error: BaseException | None) -> None:
        """Unwind in reverse: after callbacks run only while no exception is pending.

        An around callback may swallow the pending exception, as a context manager
        can. Whatever is still pending at the end is raised.
        """
        while self._stack:
            item = self._stack.pop()
            try:
                if isinstance(item, tuple):
                    if error is None:
                        item[1](self._job)
                    continue
                if error is None:
                    try:
                        next(item)
                    except StopIteration:
                        continue
                    raise RuntimeError("an around callback must yield exactly once")
                try:
                    item.throw(error)
                except StopIteration:
                    error = None
                    continue
                raise RuntimeError("an around callback must yield exactly once")
            except BaseException as exc:
                if exc is not error:
                    error = exc
        if error is not None:
            raise error


def run_around(job: object, chain: tuple[Callback, ...], work: Callable[[], Any]) -> Any:
    """Run ``work`` inside ``chain``; the fast path when there are no callbacks."""
    if not chain:
        return work()
    run = CallbackRun(job, chain)
    run.enter()
    try:
        result = work()
    except BaseException as exc:
        run.exit(exc)  # raises unless an around callback swallowed it
        return None
    run.exit(None)
    return result


def is_abort(exc: BaseException) -> bool:
    """Whether ``exc`` halts a chain rather than fails it."""
    return isinstance(exc, Abort)
