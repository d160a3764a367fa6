"""Continuations: long jobs in steps that survive a stopping worker (Rails 8.1's
``ActiveJob::Continuable``).

A :class:`Continuable` job does its work in named steps. A step that goes
through many items keeps a cursor (:attr:`Step.cursor`) and saves it as it goes
(:meth:`Step.set`, :meth:`Step.advance`); each save is a checkpoint, and so is
the start of every step after the first. When the worker running the job is
stopping (SIGTERM, a deploy), the job stops at its next checkpoint and is
enqueued again at once with its progress in the payload (``continuation``); the
next run, on any worker, skips the finished steps and starts the current one at
its saved cursor. An error after progress does the same, so the work done is
not lost; ``max_resumptions`` caps how often a job is resumed::

    from activejob import Continuable, Job, Step

    class ImportJob(Continuable, Job):
        def perform(self, import_id: int) -> None:
            self.step("download", self.download)
            self.step("rows", self.import_rows, start=0)

        def download(self) -> None: ...

        def import_rows(self, step: Step) -> None:
            for row in rows_after(step.cursor):
                save(row)
                step.set(row.id)

The progress is JSON in the payload::

    "continuation": {"completed": ["download"], "current": "rows", "cursor": 41,
                     "resumptions": 1}

Events: ``step_started``, ``step``, ``step_skipped``, ``interrupt``, ``resume``
(``docs/events.md``). See ``docs/continuations.md``. The :class:`Step` and the
:class:`Progress` it saves into are :mod:`activejob.progress` (re-exported here).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from activejob import arguments, events
from activejob.errors import (
    ContinuationError,
    JobCancelled,
    JobTimeout,
    ResumptionLimitError,
)
from activejob.job.core import JobCore
from activejob.job.execution import Resumption
from activejob.progress import Progress, Step, check_cursor

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from activejob.adapters.base import Adapter
    from activejob.job.base import Job

    _Base = Job
else:
    _Base = object

__all__ = [
    "Continuable",
    "ContinuationError",
    "Interrupted",
    "Progress",
    "ResumptionLimitError",
    "Step",
]

_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL,
)


class Interrupted(BaseException):
    """Raised at a checkpoint when the worker running the job is stopping.

    A ``BaseException`` (like ``asyncio.CancelledError``), so an ``except
    Exception`` inside a step does not swallow it. The continuation turns it into
    a resume; it never reaches the job's rules.
    """


class Continuable(_Base):
    """A mixin for jobs that work in steps and resume where they stopped.

    Put it before ``Job``: ``class ImportJob(Continuable, Job)``. In ``perform``,
    run each step with :meth:`step`. ``max_resumptions`` (``None``: no limit)
    caps how often the job is resumed: an interruption past it fails the job with
    :class:`~activejob.errors.ResumptionLimitError`.

    Example::

        class ImportJob(Continuable, Job):
            max_resumptions = 50

            def perform(self, import_id: int) -> None:
                self.step("download", self.download)
                self.step("rows", self.import_rows, start=0)
    """

    max_resumptions: ClassVar[int | None] = None
    """How many times the job may be resumed; ``None`` for no limit."""

    continuation: Progress
    """This job's progress (see :class:`Progress`)."""

    _activejob_run_adapter: Adapter | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        mro = cls.__mro__
        if JobCore in mro and mro.index(JobCore) < mro.index(Continuable):
            raise TypeError(
                f"{cls.__qualname__}: put Continuable before Job in the bases "
                f"(class {cls.__qualname__}(Continuable, Job)), so it can carry its progress"
            )
        super().__init_subclass__(**kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.continuation = Progress()

    # -- the payload ---------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """The job's payload, with its progress under ``continuation``."""
        payload = super().serialize()
        payload["continuation"] = self.continuation.to_json()
        return payload

    def _load(self, p: Mapping[str, Any]) -> None:
        super()._load(p)
        self.continuation = Progress.from_json(p.get("continuation"))

    # -- steps ---------------------------------------------------------------------

    @overload
    def step(
        self,
        name: str,
        fn: Callable[[Step], Coroutine[Any, Any, Any]] | Callable[[], Coroutine[Any, Any, Any]],
        *,
        start: Any = None,
    ) -> Coroutine[Any, Any, None]: ...

    @overload
    def step(
        self,
        name: str,
        fn: Callable[[Step], None] | Callable[[], None],
        *,
        start: Any = None,
    ) -> None: ...

    def step(
        self, name: str, fn: Callable[..., Any], *, start: Any = None
    ) -> Coroutine[Any, Any, None] | None:
        """Run ``fn`` as the step called ``name``, unless an earlier run finished it.

        ``fn`` takes the :class:`Step` (or nothing); ``start`` is the cursor a step
        begins with. A step started in an earlier run resumes with its saved
        cursor. An ``async def`` function makes this a coroutine to await (an
        ``async def perform`` awaits ``self.step(...)``). Starting a step after
        progress in this run is a checkpoint.

        Example::

            self.step("rows", self.import_rows, start=0)
            await self.step("pages", self.fetch_pages, start=1)     # async
        """
        if inspect.iscoroutinefunction(fn):
            return self._activejob_async_step(name, fn, start)
        step = self._activejob_enter_step(name, start)
        if step is None:
            return None
        try:
            result = fn(step) if _takes_step(fn) else fn()
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError(
                    f"step {name!r}: {fn!r} returned an awaitable; make it `async def` so "
                    "self.step() returns a coroutine to await"
                )
        except BaseException as exc:
            self._activejob_leave_step(step, exc)
            raise
        self._activejob_leave_step(step, None)
        return None

    async def _activejob_async_step(
        self, name: str, fn: Callable[..., Coroutine[Any, Any, Any]], start: Any
    ) -> None:
        step = self._activejob_enter_step(name, start)
        if step is None:
            return
        try:
            await (fn(step) if _takes_step(fn) else fn())
        except BaseException as exc:
            self._activejob_leave_step(step, exc)
            raise
        self._activejob_leave_step(step, None)

    def _activejob_enter_step(self, name: str, start: Any) -> Step | None:
        progress = self.continuation
        if not isinstance(name, str) or not name:
            raise TypeError(f"a step name must be a non-empty str, got {name!r}")
        if progress.running is not None:
            raise ContinuationError(
                f"{self.job_class_name}: step {name!r} started inside step "
                f"{progress.running.name!r}; steps cannot be nested"
            )
        if name in progress._seen:
            raise ContinuationError(
                f"{self.job_class_name}: step {name!r} ran twice in one perform; "
                "give each step its own name"
            )
        progress._seen.add(name)
        adapter = self._activejob_run_adapter
        if name in progress.completed:
            events.emit("step_skipped", self, adapter, step=name)
            return None
        if progress.current is not None and progress.current != name:
            raise ContinuationError(
                f"{self.job_class_name}: step {name!r} found where the job was to resume "
                f"step {progress.current!r} (cursor {progress.cursor!r}); its steps changed "
                "since it was interrupted"
            )
        if progress.advanced:
            self._activejob_checkpoint(None, before=name)
        resumed = progress.current == name
        if resumed:
            cursor = progress.cursor
        else:
            check_cursor(name, start)
            cursor = start
            progress.current = name
        step = Step(name, cursor, resumed=resumed, checkpoint=self._activejob_checkpoint)
        progress.running = step
        events.emit("step_started", self, adapter, step=name, cursor=cursor, resumed=resumed)
        return step

    def _activejob_leave_step(self, step: Step, error: BaseException | None) -> None:
        progress = self.continuation
        progress.running = None
        if error is None:
            progress.completed.append(step.name)
            progress.current = None
            progress._cursor_data = None
            progress._finished_now = True
        else:
            # Kept for the resume (or a retry): the cursor last saved.
            progress._cursor_data = arguments.serialize(step.cursor)
            if step.advanced:
                progress._finished_now = True
        events.emit(
            "step",
            self,
            self._activejob_run_adapter,
            duration=time.perf_counter() - step._started,
            exception=error,
            step=step.name,
            cursor=step.cursor,
            resumed=step.resumed,
            interrupted=isinstance(error, Interrupted),
        )

    def _activejob_checkpoint(self, step: Step | None, *, before: str | None = None) -> None:
        self.checkpoint()  # flow: timeouts and cancellation (JobTimeout, JobCancelled)
        if not self.stop_requested():
            return
        where = (
            f"step {step.name!r} (cursor {step.cursor!r})"
            if step is not None
            else f"the start of step {before!r}"
        )
        raise Interrupted(f"{self.job_class_name} {self.job_id} interrupted at {where}")

    # -- the run -------------------------------------------------------------------

    def _activejob_around_run(self, adapter: Adapter | None) -> AbstractContextManager[None]:
        return self._activejob_continue(adapter)

    @contextmanager
    def _activejob_continue(self, adapter: Adapter | None) -> Iterator[None]:
        # Entered by activejob.job.execution.wrapped(), around everything the job's
        # own code does in one execution: the one place steps meet the worker.
        progress = self.continuation
        progress.begin_run()
        self._activejob_run_adapter = adapter
        if progress.started:
            progress.resumptions += 1
            events.emit("resume", self, adapter, **progress.describe())
        try:
            yield
        except Interrupted as exc:
            raise self._activejob_resumption("stopping", exc) from None
        except ContinuationError:
            raise  # steps used wrongly: resuming would only meet it again
        except (JobTimeout, JobCancelled):
            # flow: the run's limits are for the rules to judge (the cursor is kept:
            # a retry_on(JobTimeout) resumes from it), never a resume of their own.
            raise
        except Exception as exc:
            if not progress.advanced or self._activejob_limit_reached():
                raise
            raise self._activejob_resumption("error", exc) from exc
        finally:
            self._activejob_run_adapter = None
        # Done: a later perform_now of this very instance starts over.
        self.continuation = Progress()

    def _activejob_limit_reached(self) -> bool:
        limit = type(self).max_resumptions
        return limit is not None and self.continuation.resumptions >= limit

    def _activejob_resumption(
        self, reason: Literal["stopping", "error"], exc: BaseException
    ) -> BaseException:
        progress = self.continuation
        if reason == "stopping" and self._activejob_limit_reached():
            return ResumptionLimitError(
                f"{self.job_class_name} {self.job_id} was interrupted at step "
                f"{progress.current!r} (cursor {progress.cursor!r}) after "
                f"{progress.resumptions} resumptions (max_resumptions = "
                f"{type(self).max_resumptions}); it is not enqueued again"
            )
        cause = exc if reason == "error" else None
        events.emit(
            "interrupt",
            self,
            self._activejob_run_adapter,
            exception=cause,
            reason=reason,
            **progress.describe(),
        )
        return Resumption(cause)


def _takes_step(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it the step
        return True
    return any(p.kind in _POSITIONAL for p in parameters)
