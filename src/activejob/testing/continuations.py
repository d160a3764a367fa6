"""Interrupt a continuation in a test, as a stopping worker would (Rails'
``ActiveJob::Continuation::TestHelper``).

On the ``test:`` adapter nothing stops a job, so a :class:`~activejob.Continuable`
runs every step to the end. Inside these blocks, the first matching checkpoint
of a job of the given class stops it: the job is enqueued again with its
progress, and the next ``perform_enqueued_jobs()`` resumes it::

    with interrupt_job_during_step(ImportJob, "rows", cursor=2):
        perform_enqueued_jobs()               # rows 0 and 1, then interrupted
    perform_enqueued_jobs()                   # resumes at row 2

A block whose interruption never happened fails the test with an
``AssertionError`` naming the step, so a mistyped step cannot pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from activejob.continuation import Continuable
from activejob.job.core import JobCore
from activejob.testing.session import current_adapter

__all__ = ["interrupt_job_after_step", "interrupt_job_during_step"]

_ANY_CURSOR: Any = object()


@contextmanager
def interrupt_job_during_step(
    job: type[Continuable], step: str, *, cursor: Any = _ANY_CURSOR
) -> Iterator[None]:
    """Inside the block, interrupt the first job of class ``job`` performed on the
    test adapter in step ``step``: at the checkpoint where its cursor is ``cursor``
    (after ``step.set(cursor)``), or at its first checkpoint in that step.

    Example::

        with interrupt_job_during_step(ImportJob, "rows", cursor=40):
            perform_enqueued_jobs()
    """
    _check(job)

    def rule(running: JobCore) -> bool:
        if not isinstance(running, job):
            return False
        current = running.continuation.running
        return (
            current is not None
            and current.name == step
            and (cursor is _ANY_CURSOR or current.cursor == cursor)
        )

    at = "" if cursor is _ANY_CURSOR else f" at cursor {cursor!r}"
    with _interrupting(rule, f"{job.__qualname__} was not interrupted in step {step!r}{at}"):
        yield


@contextmanager
def interrupt_job_after_step(job: type[Continuable], step: str) -> Iterator[None]:
    """Inside the block, interrupt the first job of class ``job`` performed on the
    test adapter once step ``step`` has finished, at the start of its next step
    (a step that is the job's last has no checkpoint after it).

    Example::

        with interrupt_job_after_step(ImportJob, "download"):
            perform_enqueued_jobs()
    """
    _check(job)

    def rule(running: JobCore) -> bool:
        if not isinstance(running, job):
            return False
        progress = running.continuation
        return progress.running is None and progress.completed[-1:] == [step]

    with _interrupting(rule, f"{job.__qualname__} was not interrupted after step {step!r}"):
        yield


@contextmanager
def _interrupting(rule: Callable[[JobCore], bool], missed: str) -> Iterator[None]:
    adapter = current_adapter()
    fired = False

    def once(running: JobCore) -> bool:
        nonlocal fired
        if fired or not rule(running):
            return False
        fired = True
        return True

    previous, adapter.stop_rule = adapter.stop_rule, once
    try:
        yield
    finally:
        adapter.stop_rule = previous
    if not fired:
        raise AssertionError(
            f"{missed}: no job of that class reached that checkpoint inside the block "
            "(perform it there, with perform_enqueued_jobs())"
        )


def _check(job: object) -> None:
    if not (isinstance(job, type) and issubclass(job, Continuable)):
        raise TypeError(f"interrupting needs a Continuable job class, got {job!r}")
