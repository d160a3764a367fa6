"""Enqueue options and the frozen configured job that ``Job.set(...)`` returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypedDict, TypeVar, overload

from activejob import _time
from activejob.flow.timeouts import timeout_seconds

if TYPE_CHECKING:
    # typing.Unpack is 3.11+; typing_extensions comes with mypy, and is never
    # needed at run time (annotations are not evaluated).
    from typing_extensions import Unpack

    from activejob.job.base import Job

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class HasPerform(Protocol[P, R_co]):
    """A job class seen through its ``perform`` signature (for typing only)."""

    def perform(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class HasAsyncPerform(Protocol[P, R_co]):
    """A job class whose ``perform`` is ``async def`` (for typing only)."""

    def perform(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R_co]: ...


class EnqueueKeywords(TypedDict, total=False):
    """The keywords of ``set()`` and ``enqueue()``, declared once: every signature
    that takes them says ``**options: Unpack[EnqueueKeywords]``, so a new option is
    added here and in :class:`EnqueueOptions` (same name), nowhere else.

    Example::

        def set(self, **options: Unpack[EnqueueKeywords]) -> ConfiguredJob[P, R]:
            return ConfiguredJob(self.job_class, EnqueueOptions(**options))
    """

    wait: float | timedelta | None
    wait_until: datetime | None
    queue: str | None
    priority: int | None
    timeout: float | timedelta | None
    """flow: timeouts. How long one run may take (seconds or a ``timedelta``)."""


@dataclass(frozen=True)
class EnqueueOptions:
    """When, where and how urgently to enqueue: what ``set()`` takes.

    ``wait`` is seconds or a ``timedelta`` from now; ``wait_until`` a datetime (a
    naive one is local time). Give one or the other.
    """

    wait: float | timedelta | None = None
    wait_until: datetime | None = None
    queue: str | None = None
    priority: int | None = None
    timeout: float | timedelta | None = None
    """How long one run may take; ``None`` keeps the class's ``timeout``."""

    def __post_init__(self) -> None:
        if self.wait is not None and self.wait_until is not None:
            raise ValueError("give wait or wait_until, not both")
        if self.wait is not None and not isinstance(self.wait, (int, float, timedelta)):
            raise TypeError(f"wait must be seconds or a timedelta, got {type(self.wait).__name__}")
        if self.wait_until is not None and not isinstance(self.wait_until, datetime):
            raise TypeError(f"wait_until must be a datetime, got {type(self.wait_until).__name__}")
        if self.priority is not None and (
            not isinstance(self.priority, int) or isinstance(self.priority, bool)
        ):
            raise TypeError(f"priority must be an int, got {type(self.priority).__name__}")
        if self.timeout is not None:  # flow: timeouts
            timeout_seconds(self.timeout, "set(timeout=...)")

    def merged(self, other: EnqueueOptions) -> EnqueueOptions:
        """These options with those set in ``other`` taking precedence."""
        changes = {
            f.name: getattr(other, f.name)
            for f in dataclasses.fields(other)
            if getattr(other, f.name) is not None
        }
        if "wait" in changes:
            changes.setdefault("wait_until", None)
        elif "wait_until" in changes:
            changes["wait"] = None
        return dataclasses.replace(self, **changes)

    def scheduled_at(self) -> datetime | None:
        """The moment these options ask for, as an aware UTC datetime, or ``None``."""
        if self.wait is not None:
            seconds = self.wait.total_seconds() if isinstance(self.wait, timedelta) else self.wait
            return _time.from_timestamp(_time.now() + float(seconds))
        if self.wait_until is not None:
            return self.wait_until.astimezone(timezone.utc)
        return None


@dataclass(frozen=True)
class ConfiguredJob(Generic[P, R]):
    """A job class with enqueue options attached; immutable, built by ``Job.set``.

    Example::

        configured = ReportJob.set(queue="low", wait=60)
        configured.perform_later(report_id)
    """

    job_class: type[Job]
    options: EnqueueOptions

    def set(self, **options: Unpack[EnqueueKeywords]) -> ConfiguredJob[P, R]:
        """A copy with more options; later values win."""
        more = EnqueueOptions(**options)
        return ConfiguredJob(self.job_class, self.options.merged(more))

    def build(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """An unenqueued job with these options applied."""
        job = self.job_class(*args, **kwargs)
        job.apply_options(self.options)
        return job

    def perform_later(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """Enqueue with these options; returns the job."""
        return self.build(*args, **kwargs).enqueue()

    async def aperform_later(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """``perform_later`` for async code: never blocks the event loop on I/O."""
        return await self.build(*args, **kwargs).aenqueue()

    @overload
    def perform_now(
        self: ConfiguredJob[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T: ...

    @overload
    def perform_now(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def perform_now(self, *args: Any, **kwargs: Any) -> Any:
        """Run at once in this process with the queue and priority set (the wait is
        ignored); returns ``perform``'s value (awaited, for an ``async def perform``)."""
        return self.build(*args, **kwargs).run_now()
