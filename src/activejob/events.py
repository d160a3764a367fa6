"""Events: what happened to a job, for logging, metrics and tracing.

The core, the adapters and the worker emit events; subscribers turn them into log
lines, spans or counters. A subscriber that raises is logged and ignored: it never
breaks a job.

Example::

    from activejob import events

    def on_perform(event: events.Event) -> None:
        print(event.name, event.job.job_id, event.duration)

    events.subscribe("perform", on_perform)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.base import Job

__all__ = ["Event", "Handler", "emit", "instrument", "subscribe", "unsubscribe"]

ALL = "*"
"""Subscribe to this name to receive every event."""

_logger = logging.getLogger("activejob.events")


@dataclass
class Event:
    """One thing that happened.

    ``job`` is the job concerned (``None`` for events about many jobs, which carry
    ``jobs`` in ``extra``), ``adapter`` the adapter involved, ``duration`` the
    seconds the instrumented block took, ``exception`` the exception that ended it.
    """

    name: str
    job: Job | None = None
    adapter: Adapter | None = None
    duration: float | None = None
    exception: BaseException | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]
"""A subscriber: called with each :class:`Event` it subscribed to."""

_subscribers: dict[str, tuple[Handler, ...]] = {}
_lock = threading.Lock()


def subscribe(name: str, handler: Handler) -> Handler:
    """Call ``handler`` for every event called ``name`` (``"*"`` for all).

    Returns the handler, so this also works as a decorator factory's target.
    """
    with _lock:
        _subscribers[name] = (*_subscribers.get(name, ()), handler)
    return handler


def unsubscribe(name: str, handler: Handler) -> None:
    """Stop calling ``handler`` for ``name``; unknown handlers are ignored."""
    with _lock:
        remaining = tuple(h for h in _subscribers.get(name, ()) if h is not handler)
        if remaining:
            _subscribers[name] = remaining
        else:
            _subscribers.pop(name, None)


def has_subscribers(name: str) -> bool:
    """Whether emitting ``name`` would reach anyone (a fast check for hot paths)."""
    return name in _subscribers or ALL in _subscribers


def emit(
    name: str,
    job: Job | None = None,
    adapter: Adapter | None = None,
    *,
    duration: float | None = None,
    exception: BaseException | None = None,
    **extra: Any,
) -> None:
    """Deliver an event to its subscribers."""
    handlers = _subscribers.get(name, ()) + _subscribers.get(ALL, ())
    if not handlers:
        return
    event = Event(name, job, adapter, duration, exception, extra)
    for handler in handlers:
        try:
            handler(event)
        except Exception:
            _logger.exception("activejob event subscriber %r failed on %r", handler, name)


@contextmanager
def instrument(
    name: str, job: Job | None = None, adapter: Adapter | None = None, **extra: Any
) -> Iterator[dict[str, Any]]:
    """Time the block and emit ``name`` when it ends, with the exception if it raised.

    The yielded dict is merged into the event's ``extra``, so the block can add
    what it learned (an outcome, an id).
    """
    if not has_subscribers(name):
        yield extra
        return
    started = time.perf_counter()
    try:
        yield extra
    except BaseException as exc:
        emit(name, job, adapter, duration=time.perf_counter() - started, exception=exc, **extra)
        raise
    emit(name, job, adapter, duration=time.perf_counter() - started, **extra)
