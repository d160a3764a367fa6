"""``limits_concurrency``: at most N jobs with the same key run at once, across
every worker (DESIGN §8).

The decorator only records the limit on the class; at enqueue,
:func:`concurrency_slots` computes each limit's key from ``perform``'s arguments
and the storage enforces it (``activejob.storage.concurrency``): a job that finds
every slot taken waits in state ``blocked`` and is made ready in the transaction
that frees a slot. See ``docs/flow-control.md``.

Example::

    @limits_concurrency(to=1, key=lambda account_id, **_: account_id,
                        duration=timedelta(minutes=15))
    class ChargeJob(Job):
        def perform(self, account_id: int, cents: int) -> None: ...
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from activejob.errors import ActiveJobError
from activejob.storage.concurrency import (
    ON_CONFLICT,
    ConcurrencySlot,
    emit_blocked,
    emit_unblocked,
)

if TYPE_CHECKING:
    from activejob.job.core import JobCore

__all__ = [
    "ConcurrencyLimit",
    "ConcurrencyLimitReached",
    "InMemoryLimits",
    "concurrency_slots",
    "limits_concurrency",
]

C = TypeVar("C", bound=type)

DEFAULT_DURATION = timedelta(minutes=3)
"""How long a slot is held at most when ``duration`` is not given (Solid Queue's default)."""


class ConcurrencyLimitReached(ActiveJobError):
    """Recorded as the error of a job ``on_conflict="discard"`` discarded at enqueue
    because every slot of its key was taken."""


@dataclass(frozen=True)
class ConcurrencyLimit:
    """One ``limits_concurrency`` declaration on a job class."""

    to: int
    key: str | Callable[..., Any] | None
    duration: float
    group: str | None
    on_conflict: str

    def slot_for(self, job: JobCore) -> ConcurrencySlot:
        """The storage's slot for ``job``: ``<group or class name>/<key>``."""
        scope = self.group or job.job_class_name
        if self.key is None:
            return ConcurrencySlot(scope, self.to, self.duration, self.on_conflict)
        if callable(self.key):
            args, kwargs = _named(job)
            value = self.key(*args, **kwargs)
        else:
            value = self.key
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise TypeError(
                f"{job.job_class_name}: the limits_concurrency key must give a str or an int, "
                f"got {type(value).__name__}"
            )
        return ConcurrencySlot(f"{scope}/{value}", self.to, self.duration, self.on_conflict)


def limits_concurrency(
    *,
    to: int,
    key: str | Callable[..., Any] | None = None,
    duration: timedelta | float = DEFAULT_DURATION,
    group: str | None = None,
    on_conflict: Literal["block", "discard"] = "block",
) -> Callable[[C], C]:
    """At most ``to`` jobs with the same key run at once across all workers.

    ``key`` is a string, or a callable given ``perform``'s arguments (by name) at
    enqueue; the key is scoped by ``group`` (jobs of several classes sharing one
    limit) or else the class name, and stored with the job. ``None`` makes the
    whole class (or group) one key. A job that finds every slot taken is
    ``blocked`` until a slot frees (``on_conflict="discard"``: discarded instead).
    ``duration`` bounds how long a granted slot is held: a job still running after
    it no longer counts, so a lost slot comes back by then at the latest.
    Several decorators stack: a job runs only when it holds a slot of each.

    Example::

        @limits_concurrency(to=2, key=lambda tenant, **_: tenant, duration=600)
        class SyncJob(Job):
            def perform(self, tenant: str, full: bool = False) -> None: ...
    """
    if type(to) is not int or to < 1:
        raise ValueError(f"limits_concurrency(to=...) must be an int >= 1, got {to!r}")
    if key is not None and not callable(key) and not isinstance(key, str):
        raise TypeError(f"limits_concurrency(key=...) takes a str or a callable, got {key!r}")
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"limits_concurrency(duration=...) must be > 0, got {duration!r}")
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, got {on_conflict!r}")
    if group is not None and (not isinstance(group, str) or not group):
        raise ValueError(f"limits_concurrency(group=...) must be a non-empty str, got {group!r}")
    limit = ConcurrencyLimit(to, key, float(seconds), group, on_conflict)

    def decorate(cls: C) -> C:
        if not (isinstance(cls, type) and hasattr(cls, "perform")):
            raise TypeError("limits_concurrency decorates a Job subclass")
        # Own tuple per class: a subclass adds to, never changes, its parent's limits.
        cls.concurrency_limits = (limit, *getattr(cls, "concurrency_limits", ()))  # type: ignore[attr-defined]
        return cls

    return decorate


def concurrency_slots(job: JobCore) -> tuple[ConcurrencySlot, ...]:
    """The slots ``job`` needs, computed from its arguments (empty for an unlimited job).

    Example::

        concurrency_slots(ChargeJob(42, 100))   # (ConcurrencySlot('app.ChargeJob/42', ...),)
    """
    limits: tuple[ConcurrencyLimit, ...] = getattr(type(job), "concurrency_limits", ())
    if not limits:
        return ()
    slots: dict[str, ConcurrencySlot] = {}
    for limit in limits:
        slot = limit.slot_for(job)
        # Two limits on one key: the stricter holds.
        if slot.key not in slots or slot.limit < slots[slot.key].limit:
            slots[slot.key] = slot
    return tuple(slots.values())


def _named(job: JobCore) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``perform``'s arguments, passed by name where ``perform`` names them, so
    ``key=lambda account_id, **_: account_id`` works for ``perform(account_id, cents)``."""
    args, kwargs = tuple(job.arguments), dict(job.kwargs)
    try:
        bound = inspect.signature(job.perform).bind(*args, **kwargs)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return args, kwargs
    kinds = {p.kind for p in bound.signature.parameters.values()}
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return args, kwargs  # perform(*args): nothing to name
    positional: list[Any] = []
    named: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        else:
            named[name] = value
    return tuple(positional), named


_Waiting = tuple[int, int, str, tuple[ConcurrencySlot, ...], Callable[[], None]]
"""A blocked in-memory job: priority, arrival, job id, its slots, how to start it."""


class InMemoryLimits:
    """Concurrency limits for an in-process pool (the ``async:`` adapter): slots
    held in memory, blocked jobs started as slots free, by priority then FIFO.
    Nothing can die holding a slot here, so ``duration`` does not apply.

    Example::

        limits = InMemoryLimits()
        limits.admit("job-1", 0, slots, start)   # 'started', 'blocked' or 'discarded'
        for start in limits.release("job-1"):
            start()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}
        self._holding: dict[str, tuple[ConcurrencySlot, ...]] = {}
        self._waiting: list[
            tuple[int, int, str, tuple[ConcurrencySlot, ...], Callable[[], None]]
        ] = []
        self._seq = itertools.count()

    def admit(
        self,
        job_id: str,
        priority: int,
        slots: tuple[ConcurrencySlot, ...],
        start: Callable[[], None],
    ) -> str:
        """Start the job (``start()``) if it gets a slot of each limit; else queue it
        (``"blocked"``) or drop it (``"discarded"``, for ``on_conflict="discard"``)."""
        with self._lock:
            full = self._take(job_id, slots)
            if full is not None and full.on_conflict == "block":
                heapq.heappush(self._waiting, (priority, next(self._seq), job_id, slots, start))
        if full is None:
            start()
            return "started"
        emit_blocked(job_id, full.key, discarded=full.on_conflict == "discard")
        return "discarded" if full.on_conflict == "discard" else "blocked"

    def release(self, job_id: str) -> list[Callable[[], None]]:
        """Free ``job_id``'s slots; returns the starts of the jobs that now have theirs."""
        starts: list[Callable[[], None]] = []
        unblocked: list[str] = []
        with self._lock:
            for slot in self._holding.pop(job_id, ()):
                self._held.get(slot.key, set()).discard(job_id)
            still: list[_Waiting] = []
            while self._waiting:
                entry = heapq.heappop(self._waiting)
                if self._take(entry[2], entry[3]) is None:
                    starts.append(entry[4])
                    unblocked.append(entry[2])
                else:
                    still.append(entry)
            for entry in still:
                heapq.heappush(self._waiting, entry)
        emit_unblocked(unblocked)
        return starts

    def _take(self, job_id: str, slots: tuple[ConcurrencySlot, ...]) -> ConcurrencySlot | None:
        for slot in slots:
            if len(self._held.get(slot.key, ())) >= slot.limit:
                return slot
        for slot in slots:
            self._held.setdefault(slot.key, set()).add(job_id)
        self._holding[job_id] = slots
        return None
