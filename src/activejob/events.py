"""Events: what happened to a job, for logging, metrics and tracing.

The core, the adapters and the worker emit events; subscribers turn them into log
lines (:mod:`activejob.log`, installed by default), spans or counters
(:mod:`activejob.contrib`). A subscriber that raises is logged and ignored: it
never breaks a job. Every event and its fields are listed in ``docs/events.md``.

Example::

    from activejob import events

    def on_perform(event: events.Event) -> None:
        print(event.name, event.job.job_id, event.duration, event.extra["outcome"])

    events.subscribe("perform", on_perform)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter
    from activejob.job.core import JobCore

__all__ = [
    "ALL",
    "Event",
    "Gate",
    "Handler",
    "emit",
    "has_subscribers",
    "instrument",
    "subscribe",
    "unsubscribe",
]

ALL = "*"
"""Subscribe to this name to receive every event."""

_logger = logging.getLogger("activejob.events")


@dataclass
class Event:
    """One thing that happened.

    ``job`` is the job concerned (``None`` for events about many jobs, which carry
    ``jobs`` in ``extra``), ``adapter`` the adapter involved (``None`` where the
    emitter does not know it), ``duration`` the seconds the instrumented block
    took, ``exception`` the exception that ended it or caused the event.
    ``extra`` holds the fields particular to each event (``docs/events.md``).
    """

    name: str
    job: JobCore | None = None
    adapter: Adapter | None = None
    duration: float | None = None
    exception: BaseException | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]
"""A subscriber: called with each :class:`Event` it subscribed to."""

Gate = Callable[[], bool]
"""``subscribe(..., when=)``: whether the subscriber would do anything with an
event that carries no exception, asked before the event is made."""

_Route = tuple[tuple[Handler, ...], tuple[Gate, ...] | None]

_subscribers: dict[str, tuple[tuple[Handler, Gate | None], ...]] = {}
_routes: dict[str, _Route] = {}
"""What :func:`emit` calls for a name: its own subscribers, then those of ``ALL``,
and, when every one of them has a gate (``when=``), those gates (else ``None``):
when none says yes, an event without an exception is not even made. Rebuilt on
every change, so emitting is one lookup."""
_NO_ROUTE: _Route = ((), None)
_lock = threading.Lock()


def _reroute() -> None:
    # Called with _lock held. One dict swap, so an emit on another thread sees
    # the routes before or after the change, never half of it.
    everyone = _subscribers.get(ALL, ())
    routes: dict[str, _Route] = {}
    for name, own in (*_subscribers.items(), (ALL, ())):
        subscribed = own + everyone if name != ALL else everyone
        gates = tuple(gate for _, gate in subscribed if gate is not None)
        gated = bool(subscribed) and len(gates) == len(subscribed)
        routes[name] = (tuple(handler for handler, _ in subscribed), gates if gated else None)
    global _routes
    _routes = routes


def subscribe(name: str, handler: Handler, *, when: Gate | None = None) -> Handler:
    """Call ``handler`` for every event called ``name`` (``"*"`` for all).

    ``when``, if given, is asked (with no argument) before an event without an
    exception is made: while it and the gates of every other subscriber to the
    name say no, such events are not made at all, which is what a subscriber that
    mostly does nothing saves (activejob's log lines use
    ``logger.isEnabledFor(logging.INFO)``). An event with an exception always
    reaches the subscriber, which still decides for itself.

    Returns the handler, so the call can also decorate it::

        @functools.partial(events.subscribe, "discard")
        def on_discard(event: events.Event) -> None: ...
    """
    with _lock:
        _subscribers[name] = (*_subscribers.get(name, ()), (handler, when))
        _reroute()
    return handler


def unsubscribe(name: str, handler: Handler) -> None:
    """Stop calling ``handler`` for ``name``; unknown handlers are ignored.

    Example::

        events.unsubscribe("perform", on_perform)
    """
    with _lock:
        # ``==``, not ``is``: ``seen.append`` makes a new bound method at each access.
        remaining = tuple(s for s in _subscribers.get(name, ()) if s[0] != handler)
        if remaining:
            _subscribers[name] = remaining
        else:
            _subscribers.pop(name, None)
        _reroute()


def has_subscribers(name: str) -> bool:
    """Whether emitting ``name`` would reach anyone (a fast check for hot paths).

    Example::

        if events.has_subscribers("perform"): ...
    """
    return name in _subscribers or ALL in _subscribers


def emit(
    name: str,
    job: JobCore | None = None,
    adapter: Adapter | None = None,
    *,
    duration: float | None = None,
    exception: BaseException | None = None,
    **extra: Any,
) -> None:
    """Deliver an event to its subscribers, in the order they subscribed.

    A subscriber that raises ``Exception`` is logged on ``activejob.events`` and
    the next one is called: emitting never raises.

    Example::

        events.emit("discard", job, exception=exc, reason="discard_on")
    """
    _deliver(name, job, adapter, duration, exception, extra)


def _deliver(
    name: str,
    job: JobCore | None,
    adapter: Adapter | None,
    duration: float | None,
    exception: BaseException | None,
    extra: dict[str, Any],
) -> None:
    """:func:`emit`'s work, for callers that hold ``extra`` as a dict of their own."""
    route = _routes.get(name) or _routes.get(ALL)  # no subscriber of its own: ALL's
    if route is None:
        return
    handlers, gates = route
    if not handlers or (exception is None and gates is not None and not _wanted(gates)):
        return
    event = Event(name, job, adapter, duration, exception, extra)
    for handler in handlers:
        try:
            handler(event)
        except Exception:
            _logger.exception("activejob event subscriber %r failed on %r", handler, name)


def _wanted(gates: tuple[Gate, ...]) -> bool:
    """Whether one of a route's gates wants an event without an exception."""
    for gate in gates:  # noqa: SIM110 (any() would build a generator every event)
        if gate():
            return True
    return False


class _Instrumented:
    """What :func:`instrument` returns: a context manager with no generator behind
    it (an enqueue runs one, so its cost is every enqueue's)."""

    __slots__ = ("adapter", "extra", "job", "name", "started")

    def __init__(
        self, name: str, job: JobCore | None, adapter: Adapter | None, extra: dict[str, Any]
    ) -> None:
        self.name = name
        self.job = job
        self.adapter = adapter
        self.extra = extra
        self.started: float | None = None  # None: nobody listens, nothing to emit

    def __enter__(self) -> dict[str, Any]:
        name = self.name
        start_name = f"{name}_start"
        listening = _subscribers
        everyone = ALL in listening
        if everyone or start_name in listening:
            emit(start_name, self.job, self.adapter, **self.extra)
        if everyone or name in listening:
            self.started = time.perf_counter()
        return self.extra

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        started = self.started
        if started is not None:
            if exc is None:
                gates = (_routes.get(self.name) or _routes.get(ALL) or _NO_ROUTE)[1]
                if gates is not None and not _wanted(gates):
                    return  # no gate said yes: not even the copy of extra is made
            duration = time.perf_counter() - started
            # A copy: the block's dict stays the block's, as emit(**extra) would leave it.
            _deliver(self.name, self.job, self.adapter, duration, exc, dict(self.extra))


def instrument(
    name: str, job: JobCore | None = None, adapter: Adapter | None = None, **extra: Any
) -> AbstractContextManager[dict[str, Any]]:
    """Emit ``<name>_start`` as the block begins and ``name`` when it ends, timed,
    with the exception if it raised.

    Subscribers to the start event may still change the job (its ``metadata``
    goes into the payload: that is how a trace context travels with a job). The
    returned dict is merged into the end event's ``extra``, so the block can add
    what it learned (an outcome, an id). Whether anyone listens is decided as the
    block begins: a subscriber added inside it sees neither event.

    Example::

        with events.instrument("enqueue", job, adapter) as info:
            info["aborted"] = False
    """
    return _Instrumented(name, job, adapter, extra)
