"""Putting jobs on a queue: ``perform_later``, ``set()``, ``enqueue``, bulk enqueue.

The job is handed to its adapter (the class's ``queue_adapter``, else the
configured one) inside the enqueue callbacks. A before-enqueue callback that
raises ``Abort`` leaves the job unenqueued; an adapter that fails raises
:class:`EnqueueError` with the cause chained.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, overload

from activejob import _time, events
from activejob.adapters.base import Adapter
from activejob.adapters.cache import check_adapter_setting, resolve_adapter
from activejob.errors import Abort, ActiveJobError, EnqueueError
from activejob.flow import unique
from activejob.job import callbacks
from activejob.job.options import ConfiguredJob, EnqueueKeywords, EnqueueOptions, HasPerform, P, R
from activejob.job.queueing import Queueing, queue_name_from_part
from activejob.transaction import AfterCommit, after_commit_for

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from activejob.job.base import Job
    from activejob.job.rules import RetryDecision

_NO_SCOPE_OF_BASE = Adapter.enqueue_scope
"""The base class's ``enqueue_scope``, which enters nothing."""

J = TypeVar("J", bound="Enqueuing")
T = TypeVar("T")
J_co = TypeVar("J_co", bound="Enqueuing", covariant=True)


class ClassSet(Protocol[P, R]):
    """``MyJob.set``: takes the enqueue options, returns a :class:`ConfiguredJob`."""

    def __call__(self, **options: Unpack[EnqueueKeywords]) -> ConfiguredJob[P, R]: ...


class InstanceSet(Protocol[J_co]):
    """``job.set``: takes the enqueue options, sets them on the job, returns it."""

    def __call__(self, **options: Unpack[EnqueueKeywords]) -> J_co: ...


class _SetDescriptor:
    """``Job.set(...)`` builds a :class:`ConfiguredJob`; ``job.set(...)`` configures that job."""

    @overload
    def __get__(self, instance: None, owner: type[HasPerform[P, R]]) -> ClassSet[P, R]: ...

    @overload
    def __get__(self, instance: J, owner: type[J]) -> InstanceSet[J]: ...

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:

            def configure_class(**options: Unpack[EnqueueKeywords]) -> ConfiguredJob[Any, Any]:
                return ConfiguredJob(owner, EnqueueOptions(**options))

            return configure_class

        def configure_instance(**options: Unpack[EnqueueKeywords]) -> Any:
            instance.apply_options(EnqueueOptions(**options))
            return instance

        return configure_instance


class Enqueuing(Queueing):
    """``perform_later``, ``set``, ``enqueue`` and their async forms."""

    queue_adapter: ClassVar[str | Adapter | None] = None
    """This class's adapter (URL or instance); ``None`` uses the configured one."""
    enqueue_after_transaction_commit: ClassVar[bool | None] = None
    """Inside a framework's open transaction, wait for its commit (``True``) or
    enqueue at once (``False``); ``None`` follows
    :attr:`activejob.Config.enqueue_after_transaction_commit`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("queue_adapter")
        if own is not None:
            check_adapter_setting(own, f"{cls.__qualname__}.queue_adapter")

    duplicate_of: str | None = None
    """The ``job_id`` of the stored job that holds this ``@unique`` job's key, when
    the last enqueue found it held (flow: unique); ``None`` otherwise."""

    set = _SetDescriptor()
    """``MyJob.set(wait=, wait_until=, queue=, priority=, timeout=)`` returns a frozen
    :class:`ConfiguredJob`; on an instance it sets those options on the job."""

    @classmethod
    def perform_later(cls: type[HasPerform[P, R]], *args: P.args, **kwargs: P.kwargs) -> Job:
        """Enqueue a job that will call ``perform(*args, **kwargs)``; returns the job.

        Example::

            job = ReportJob.perform_later(report_id)
            job.job_id, job.successfully_enqueued
        """
        job: Job = cls(*args, **kwargs)  # type: ignore[assignment]
        return job.enqueue()

    @classmethod
    async def aperform_later(cls: type[HasPerform[P, R]], *args: P.args, **kwargs: P.kwargs) -> Job:
        """``perform_later`` for async code: adapter I/O runs off the event loop."""
        job: Job = cls(*args, **kwargs)  # type: ignore[assignment]
        return await job.aenqueue()

    def adapter(self) -> Adapter:
        """The adapter this job is enqueued through."""
        return resolve_adapter(type(self).queue_adapter)

    def apply_options(self, options: EnqueueOptions) -> None:
        """Set the queue, priority and scheduled time these options ask for."""
        if options.queue is not None:
            self.queue_name = queue_name_from_part(options.queue)
        if options.priority is not None:
            self.priority = options.priority
        if options.timeout is not None:  # flow: timeouts
            self.timeout = options.timeout
        scheduled = options.scheduled_at()
        if scheduled is not None:
            self.scheduled_at = scheduled

    def enqueue(self: J, **options: Unpack[EnqueueKeywords]) -> J:
        """Hand this job to its adapter, with optional options; returns the job.

        ``successfully_enqueued`` tells whether it was enqueued: ``False`` when a
        before-enqueue callback aborted.
        """
        if options:  # perform_later passes none: no options object to build and apply
            self.apply_options(EnqueueOptions(**options))
        adapter = self.adapter()
        self.successfully_enqueued = False
        self.enqueue_error = None
        later = after_commit_for(self, adapter)  # type: ignore[arg-type]
        if later is not None:
            later(functools.partial(self._enqueue_now, adapter))
            return self
        return self._enqueue_now(adapter)

    def _enqueue_now(self: J, adapter: Adapter) -> J:
        # The adapter's scope wraps the event, so a job it starts on another thread
        # cannot report performing before this reports the enqueue. Most adapters
        # have none (the base class's): no scope is entered then.
        if type(adapter).enqueue_scope is _NO_SCOPE_OF_BASE:
            return self._instrumented_enqueue(adapter)
        with adapter.enqueue_scope():
            return self._instrumented_enqueue(adapter)

    def _instrumented_enqueue(self: J, adapter: Adapter) -> J:
        name = "enqueue" if self.scheduled_at is None else "enqueue_at"
        # The event wraps the callbacks (as in Active Job) so that an abort is
        # reported too.
        with events.instrument(name, self, adapter, aborted=False) as info:
            try:
                chain = self._activejob_callbacks.get("enqueue")
                if chain:
                    callbacks.run_around(self, chain, functools.partial(self._hand_to, adapter))
                else:  # most jobs have no enqueue callbacks: no chain to build
                    self._hand_to(adapter)
            except Abort:
                info["aborted"] = True
        return self

    async def aenqueue(self: J, **options: Unpack[EnqueueKeywords]) -> J:
        """:meth:`enqueue` for async code."""
        if self.adapter().nonblocking:
            return self.enqueue(**options)
        return await asyncio.to_thread(self.enqueue, **options)

    def _hand_to(self, adapter: Adapter) -> None:
        scheduled = self.scheduled_at
        unique.reset(self)
        adapter.validate(self)  # type: ignore[arg-type]
        self.enqueued_at = _time.utcnow()
        try:
            if scheduled is None:
                adapter.enqueue(self)  # type: ignore[arg-type]
            else:
                adapter.enqueue_at(self, scheduled.timestamp())  # type: ignore[arg-type]
        except Exception as exc:
            self.enqueue_error = exc
            if isinstance(exc, ActiveJobError) or adapter.performs_inline:
                raise
            raise EnqueueError(f"{adapter} could not enqueue {self!r}: {exc}") from exc
        self.successfully_enqueued = not unique.was_skipped(self)  # flow: unique

    def apply_retry(self, decision: RetryDecision) -> None:
        """Set the time, queue and priority a retry decision asks for (no enqueue).

        A worker whose storage applies retries itself calls this, then stores
        ``serialize()``.
        """
        self.scheduled_at = decision.at
        if decision.queue is not None:
            self.queue_name = queue_name_from_part(decision.queue)
        if decision.priority is not None:
            self.priority = decision.priority

    def retry_job(
        self,
        decision: RetryDecision,
        *,
        adapter: Adapter | None = None,
        store: Callable[[], T] | None = None,
    ) -> T | None:
        """Enqueue this job again as ``decision`` says (same ``job_id``), as Active
        Job's ``retry_job`` does: the one place a retry decision is applied and
        ``enqueue_retry`` emitted.

        By default the job goes back through :meth:`enqueue` to its adapter; on an
        adapter that performs jobs in the caller and cannot schedule (``inline:``)
        the retry runs at once, its wait skipped. A worker whose storage records the retry passes
        ``store``, which builds what to record (the event follows it, so a retry
        that cannot be stored is not reported), and the ``adapter`` to name in
        the event.

        Example::

            outcome.job.retry_job(outcome.retry)   # what settle() does with a retry
        """
        self.apply_retry(decision)
        wait, stored = decision.wait, None
        if store is not None:
            stored = store()  # if this raises, there is no retry to report
        else:
            adapter = self.adapter()
            if adapter.performs_inline and not adapter.supports_scheduling:
                self.scheduled_at = None  # inline: it runs in the caller, who would wait
                wait = 0.0
        events.emit(
            "enqueue_retry",
            self,
            adapter,
            exception=decision.exception,
            wait=wait,
            executions=self.executions,
        )
        if store is None:
            self.enqueue()
        return stored


def perform_all_later(jobs: Iterable[Job]) -> int:
    """Enqueue many jobs at once: one ``enqueue_all`` call per adapter.

    Returns how many were enqueued. As in Active Job, enqueue callbacks do not
    run for bulk enqueues. Every job is validated and serialised before any
    adapter is called, so a job its adapter refuses or whose arguments cannot
    be serialised leaves all of them unenqueued.

    Jobs that wait for an open transaction's commit (see
    :attr:`Enqueuing.enqueue_after_transaction_commit`) are enqueued together at the
    commit and are not counted here.

    Example::

        activejob.perform_all_later([GuestsCleanupJob(g) for g in guests])
    """
    by_adapter: dict[int, tuple[Adapter, list[Job]]] = {}
    for job in jobs:
        adapter = job.adapter()
        by_adapter.setdefault(id(adapter), (adapter, []))[1].append(job)
    try:
        for adapter, group in by_adapter.values():
            for job in group:
                adapter.validate(job)
                # SerializationError here, before anything is enqueued; the payloads
                # built below reuse this form instead of serialising again.
                job._pinned_arguments = job.serialized_arguments()
        return sum(_enqueue_groups(adapter, group) for adapter, group in by_adapter.values())
    finally:
        for _, group in by_adapter.values():
            for job in group:
                job.__dict__.pop("_pinned_arguments", None)


def _enqueue_groups(adapter: Adapter, group: list[Job]) -> int:
    """Enqueue ``group`` now, and hold the jobs that wait for a commit."""
    now_jobs: list[Job] = []
    held: list[Job] = []
    later: AfterCommit | None = None
    for job in group:
        wait = after_commit_for(job, adapter)
        if wait is None:
            now_jobs.append(job)
        else:
            later = wait
            job.__dict__.pop("_pinned_arguments", None)  # serialised again at the commit
            held.append(job)
    if held and later is not None:
        later(functools.partial(_enqueue_group, adapter, held))
    return _enqueue_group(adapter, now_jobs) if now_jobs else 0


def _enqueue_group(adapter: Adapter, group: list[Job]) -> int:
    with (
        adapter.enqueue_scope(),
        events.instrument("enqueue_all", None, adapter, jobs=group) as info,
    ):
        now = _time.utcnow()
        for job in group:
            job.enqueued_at = now
            job.successfully_enqueued = False
        try:
            count = adapter.enqueue_all(group)
        except Exception as exc:
            # As in enqueue(): an inline adapter raised the job's own exception.
            if isinstance(exc, ActiveJobError) or adapter.performs_inline:
                raise
            raise EnqueueError(f"{adapter} could not enqueue {len(group)} jobs: {exc}") from exc
        info["enqueued_count"] = count
    return count
