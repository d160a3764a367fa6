"""Unique jobs (DESIGN §8): at most one job per key while it waits (and runs).

``@unique`` marks a job class (or an ``@job`` function). At enqueue the job's key
is computed here, once; the store enforces it with a unique index (SQL) or inside
the push script (Redis), never by checking first and inserting after. A stored job
*holds* its key while :func:`holds_key` says so, which is computed from its state at
the moment a second job asks: nothing has to remember to release a key when a job
starts, finishes, is discarded, fails for good or is recovered from a dead worker.

Example::

    @unique(until="started", on_conflict="skip")
    class RefreshFeedJob(Job):
        def perform(self, feed_id: int) -> None: ...

    first = RefreshFeedJob.perform_later(7)
    second = RefreshFeedJob.perform_later(7)
    second.successfully_enqueued, second.duplicate_of == first.job_id   # False, True
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from activejob import _time, events
from activejob.errors import DuplicateJobError

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.core import JobCore

__all__ = [
    "UNIQUE_STATES",
    "InMemoryKeys",
    "UniqueSpec",
    "holds_key",
    "key_of",
    "lock_of",
    "mark_duplicate",
    "spec_of",
    "unique",
]

T = TypeVar("T")
Until = Literal["finished", "started"]
OnConflict = Literal["skip", "raise", "replace"]
Key = str | Callable[..., Any] | None

_SPEC = "_activejob_unique"
WAITING_STATES = frozenset({"scheduled", "ready", "blocked"})
"""States of a job that has not started (``blocked``: by a concurrency limit)."""
UNIQUE_STATES: dict[str, frozenset[str]] = {
    "started": WAITING_STATES,
    "finished": WAITING_STATES | {"running"},
}
"""The states in which a job holds its key, by ``until``."""


@dataclass(frozen=True)
class UniqueSpec:
    """What ``@unique`` declared on a job class."""

    key: Key
    until: Until
    within: float | None
    """Seconds after the first job's enqueue during which the key is held, whatever
    its state (``until`` is then not consulted)."""
    on_conflict: OnConflict


def unique(
    key: Key = None,
    until: Until = "finished",
    within: timedelta | float | None = None,
    on_conflict: OnConflict = "skip",
) -> Callable[[T], T]:
    """Allow one job per key: a second one conflicts while the first holds the key.

    ``key`` is ``None`` (the serialised arguments), a string, or a callable given
    ``perform``'s arguments by name; the key is always scoped by the job's class name. The
    first job holds the key while it is scheduled, ready or blocked
    (``until="started"``), or also while it runs or waits for a retry
    (``until="finished"``); with ``within``, for that long after it was enqueued,
    whatever its state. On a conflict, ``on_conflict`` says what ``perform_later``
    does: ``"skip"`` returns the new job unenqueued with ``duplicate_of`` set,
    ``"raise"`` raises :class:`~activejob.DuplicateJobError`, ``"replace"`` moves the
    new arguments and run time into the waiting job (with ``set(wait=...)``: a
    debounce).

    Example::

        @unique(key=lambda account_id, **_: account_id, until="started", on_conflict="replace")
        class SyncAccountJob(Job):
            def perform(self, account_id: int, reason: str) -> None: ...

        SyncAccountJob.set(wait=30).perform_later(42, reason="edit")   # debounced
    """
    if until not in UNIQUE_STATES:
        raise ValueError(f"unique(until=...) must be 'finished' or 'started', got {until!r}")
    if on_conflict not in ("skip", "raise", "replace"):
        raise ValueError(
            f"unique(on_conflict=...) must be 'skip', 'raise' or 'replace', got {on_conflict!r}"
        )
    if key is not None and not isinstance(key, str) and not callable(key):
        raise TypeError(f"unique(key=...) takes a string or a callable, got {type(key).__name__}")
    seconds = _seconds(within)
    spec = UniqueSpec(key, until, seconds, on_conflict)

    def decorate(target: T) -> T:
        cls: Any = getattr(target, "job_class", target)
        if not isinstance(cls, type):
            raise TypeError("unique() decorates a Job subclass or an @job function")
        setattr(cls, _SPEC, spec)
        return target

    return decorate


def _seconds(within: timedelta | float | None) -> float | None:
    if within is None:
        return None
    if isinstance(within, timedelta):
        seconds = within.total_seconds()
    elif isinstance(within, (int, float)) and not isinstance(within, bool):
        seconds = float(within)
    else:
        raise TypeError(f"unique(within=...) takes a timedelta or seconds, got {within!r}")
    if not seconds > 0:
        raise ValueError(f"unique(within=...) must be positive, got {within!r}")
    return seconds


def spec_of(job: JobCore) -> UniqueSpec | None:
    """The ``@unique`` declaration of ``job``'s class, or ``None``."""
    spec: UniqueSpec | None = getattr(type(job), _SPEC, None)
    return spec


def key_of(job: JobCore, spec: UniqueSpec, serialized: tuple[Any, Any] | None = None) -> str:
    """``job``'s unique key: its class name, then the declared key, or a stable hash of
    its serialised arguments (the same arguments give the same key in every process).

    Example::

        key_of(RefreshFeedJob(7), spec)   # 'app.jobs.RefreshFeedJob:5d41402abc4b2a76...'

    ``serialized`` is ``(arguments, kwargs)`` as the payload has them, when the
    caller has serialised them already.
    """
    if spec.key is None:
        args, kwargs = serialized or job.serialized_arguments()
        part = hashlib.sha256(_ARGUMENTS.encode([args, kwargs]).encode()).hexdigest()[:32]
    elif isinstance(spec.key, str):
        part = spec.key
    else:
        value = _call_key(job, spec.key)
        part = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return f"{job.job_class_name}:{part}"


_ARGUMENTS = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""The encoder of the hashed arguments: one, built once (``json.dumps`` with these
options builds one per call); its text, hence every key, is ``json.dumps``'s."""


def _call_key(job: JobCore, key: Callable[..., Any]) -> Any:
    """``key`` called with ``perform``'s arguments by name (as ``limits_concurrency``'s
    key is), so ``lambda account_id, **_: account_id`` picks one of them."""
    try:
        signature = _signature(getattr(type(job), "perform", None))
        bound = signature.bind(job, *job.arguments, **job.kwargs)
    except TypeError:  # no signature, or these arguments do not bind to it
        return key(*job.arguments, **job.kwargs)
    named: dict[str, Any] = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        kind = signature.parameters[name].kind
        if index == 0:
            continue  # self
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            # perform(*args) (an @job function's): its names are the function's own
            return key(*job.arguments, **job.kwargs)
        else:
            named[name] = value
    return key(**named)


@functools.lru_cache(maxsize=1024)
def _signature(perform: Any) -> inspect.Signature:
    """``perform``'s signature, read once per function (reading it costs more than
    the rest of a key); :class:`TypeError` when it has none."""
    try:
        return inspect.signature(perform)
    except ValueError as exc:
        raise TypeError(str(exc)) from exc


def lock_of(key: str) -> str:
    """What the store indexes for ``key``: its SHA-256, 64 hex digits, so a key of
    any length fits any index."""
    return hashlib.sha256(key.encode()).hexdigest()


def holds_key(
    state: str, attempts: int, until: str | None, expires_at: float | None, now: float
) -> bool:
    """Whether a stored job with these values holds its unique key at ``now``: the
    one rule, mirrored by each store's query or script.

    With ``within`` (``expires_at`` set), until it expires. Otherwise while it waits
    (``until="started"``: and had never been claimed, so a job released by a dead
    worker or waiting for a retry no longer holds it) or also while it runs or waits
    for a retry (``until="finished"``).
    """
    if expires_at is not None:
        return now < expires_at
    if until == "finished":
        return state in UNIQUE_STATES["finished"]
    return state in WAITING_STATES and attempts == 0


def mark_duplicate(
    job: JobCore, adapter: Adapter | None, duplicate_of: str, *, replaced: bool
) -> None:
    """Record on ``job`` that its key was held by ``duplicate_of``, emit ``duplicate``,
    and raise :class:`DuplicateJobError` when the class asked for ``on_conflict="raise"``.

    Every adapter calls this for every conflict, so the event is emitted once, here.
    """
    spec = spec_of(job)
    on_conflict = spec.on_conflict if spec is not None else "skip"
    job.duplicate_of = duplicate_of  # type: ignore[attr-defined]
    job._unique_skipped = not replaced  # type: ignore[attr-defined]
    key = key_of(job, spec) if spec is not None else None
    events.emit(
        "duplicate",
        job,
        adapter,
        key=key,
        duplicate_of=duplicate_of,
        on_conflict=on_conflict,
        replaced=replaced,
    )
    if on_conflict == "raise" and not replaced:
        raise DuplicateJobError(
            f"{job!r} is a duplicate of job {duplicate_of} (unique key {key!r})",
            duplicate_of=duplicate_of,
            key=key,
        )


def was_skipped(job: JobCore) -> bool:
    """Whether the last enqueue of ``job`` found its key held and stored nothing."""
    return bool(getattr(job, "_unique_skipped", False))


def reset(job: JobCore) -> None:
    """Forget what an earlier enqueue of ``job`` said about its key."""
    job.duplicate_of = None  # type: ignore[attr-defined]
    job._unique_skipped = False  # type: ignore[attr-defined]


@dataclass
class _Held:
    job: JobCore
    state: str
    attempts: int
    until: str
    expires_at: float | None


class InMemoryKeys:
    """The unique keys of an in-process adapter (``test:``, ``async:``), with the same
    rule as the stores: :meth:`claim` at enqueue, :meth:`started` / :meth:`finished`
    as the adapter runs the job. Thread-safe.

    Example::

        keys = InMemoryKeys()
        holder = keys.claim(job)        # None: job now holds its key
    """

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def claim(
        self,
        job: JobCore,
        adapter: Adapter | None = None,
        replace: Callable[[str], bool] | None = None,
    ) -> bool:
        """Take ``job``'s key; returns whether the adapter is to enqueue the job.

        On a conflict, ``on_conflict="replace"`` calls ``replace(holder_job_id)`` for
        a holder that waits and never ran (it returns whether it moved the new job's
        arguments and run time into that holder); then :func:`mark_duplicate` is
        called, which raises for ``on_conflict="raise"``. The job enqueued again for
        a retry (the same ``job_id``) keeps its key.
        """
        spec = spec_of(job)
        if spec is None:
            return True
        lock = lock_of(key_of(job, spec))
        now = _time.now()
        state = "ready" if getattr(job, "scheduled_at", None) is None else "scheduled"
        with self._lock:
            held = self._held.get(lock)
            if held is not None and held.job.job_id == job.job_id:
                held.job, held.state = job, state  # a retry: same job, attempts kept
                return True
            if held is None or not holds_key(
                held.state, held.attempts, held.until, held.expires_at, now
            ):
                expires = None if spec.within is None else now + spec.within
                self._held[lock] = _Held(job, state, 0, spec.until, expires)
                return True
            holder_id = held.job.job_id
            waiting = held.state in WAITING_STATES and held.attempts == 0
        replaced = (
            spec.on_conflict == "replace" and waiting and replace is not None and replace(holder_id)
        )
        mark_duplicate(job, adapter, holder_id, replaced=replaced)
        return False

    def started(self, job_id: str) -> None:
        """The job with ``job_id`` began to run."""
        self._set(job_id, "running")

    def finished(self, job_id: str, *, again: bool = False) -> None:
        """The job with ``job_id`` ended; ``again`` when it waits for a retry."""
        self._set(job_id, "scheduled" if again else "succeeded")

    def _set(self, job_id: str, state: str) -> None:
        with self._lock:
            for held in self._held.values():
                if held.job.job_id == job_id:
                    held.state = state
                    if state == "running":
                        held.attempts += 1

    def clear(self) -> None:
        """Forget every key (the adapter forgot its jobs)."""
        with self._lock:
            self._held.clear()
