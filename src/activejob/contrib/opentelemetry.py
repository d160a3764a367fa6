"""OpenTelemetry tracing for jobs: a span for each enqueue and each perform, with
the trace context carried in the job's payload so a job's span joins the trace
that enqueued it (``pip install 'activejob[opentelemetry]'``).

Example::

    from activejob.contrib import opentelemetry as aj_otel

    aj_otel.instrument()                 # the global tracer provider
    aj_otel.instrument(tracer_provider=provider)

Spans: ``enqueue <job class>`` (kind ``PRODUCER``; also for scheduled jobs),
``enqueue_all`` for a bulk enqueue, and ``perform <job class>`` (kind
``CONSUMER``), with ``messaging.*`` attributes and ``activejob.*`` ones.
The enqueue span's context is written into ``job.metadata`` (``traceparent``,
through the configured propagators) before the job is serialised; the perform
span continues it, and is current while ``perform`` runs, so spans made inside
the job, and jobs it enqueues, belong to the same trace. A retry is enqueued
under the job's original trace when no other span is current.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from activejob import events

if TYPE_CHECKING:
    from activejob.job.core import JobCore

__all__ = ["TracingInstrumentation", "instrument"]

SYSTEM = "activejob"
"""The ``messaging.system`` attribute of every span."""


@dataclass(frozen=True)
class _Open:
    owner: int
    key: int
    span: trace.Span
    token: contextvars.Token[otel_context.Context]


# Spans opened by start events and not yet ended, innermost last. Start and end
# events of one enqueue or perform come in the same thread (or task), so a
# context variable pairs them without locks.
_open: contextvars.ContextVar[tuple[_Open, ...]] = contextvars.ContextVar(
    "activejob_otel_open_spans", default=()
)


class TracingInstrumentation:
    """Event subscribers that make spans; built by :func:`instrument`."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        from activejob import __version__

        self.tracer = trace.get_tracer("activejob", __version__, tracer_provider=tracer_provider)
        self._handlers: dict[str, events.Handler] = {
            "enqueue_start": self._enqueue_start,
            "enqueue_at_start": self._enqueue_start,
            "enqueue": self._enqueue_end,
            "enqueue_at": self._enqueue_end,
            "enqueue_all_start": self._enqueue_all_start,
            "enqueue_all": self._enqueue_all_end,
            "perform_start": self._perform_start,
            "perform": self._perform_end,
            "retry_stopped": self._span_event,
            "discard": self._span_event,
        }
        for name, handler in self._handlers.items():
            events.subscribe(name, handler)

    def uninstrument(self) -> None:
        """Stop making spans."""
        for name, handler in self._handlers.items():
            events.unsubscribe(name, handler)

    # -- enqueue ---------------------------------------------------------------------------

    def _enqueue_start(self, event: events.Event) -> None:
        job = _job(event)
        parent = otel_context.get_current()
        if not _has_span(parent) and job.metadata:
            parent = propagate.extract(job.metadata)  # a retry stays in its first trace
        attributes = {
            **_job_attributes(job),
            "messaging.operation.type": "send",
            "messaging.operation.name": "enqueue",
        }
        if event.adapter is not None:
            attributes["activejob.adapter"] = event.adapter.scheme or type(event.adapter).__name__
        if job.scheduled_at is not None:
            attributes["activejob.scheduled_at"] = job.scheduled_at.isoformat()
        name = f"enqueue {job.job_class_name}"
        span = self.tracer.start_span(name, parent, SpanKind.PRODUCER, attributes)
        self._open(id(job), span, parent, [job])

    def _enqueue_end(self, event: events.Event) -> None:
        job = _job(event)
        span = self._close(id(job))
        if span is None:
            return
        if job.provider_job_id is not None:
            span.set_attribute("activejob.provider_job_id", job.provider_job_id)
        if event.extra.get("aborted"):
            span.set_attribute("activejob.aborted", True)
        _end(span, event.exception, error=event.exception is not None)

    def _enqueue_all_start(self, event: events.Event) -> None:
        jobs: list[JobCore] = event.extra.get("jobs", [])
        attributes: dict[str, Any] = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": "send",
            "messaging.operation.name": "enqueue_all",
            "messaging.batch.message_count": len(jobs),
        }
        span = self.tracer.start_span("enqueue_all", None, SpanKind.PRODUCER, attributes)
        self._open(id(jobs), span, otel_context.get_current(), jobs)

    def _enqueue_all_end(self, event: events.Event) -> None:
        span = self._close(id(event.extra.get("jobs")))
        if span is None:
            return
        if "enqueued_count" in event.extra:
            span.set_attribute("activejob.enqueued_count", int(event.extra["enqueued_count"]))
        _end(span, event.exception, error=event.exception is not None)

    # -- perform ---------------------------------------------------------------------------

    def _perform_start(self, event: events.Event) -> None:
        job = _job(event)
        parent: otel_context.Context | None = None
        if job.metadata:
            carried = propagate.extract(job.metadata)
            if _has_span(carried):
                parent = carried
        attributes = {
            **_job_attributes(job),
            "messaging.operation.type": "process",
            "messaging.operation.name": "perform",
            "activejob.executions": job.executions,
        }
        if event.adapter is not None:
            attributes["activejob.adapter"] = event.adapter.scheme or type(event.adapter).__name__
        name = f"perform {job.job_class_name}"
        span = self.tracer.start_span(name, parent, SpanKind.CONSUMER, attributes)
        self._open(id(job), span, parent, [])

    def _perform_end(self, event: events.Event) -> None:
        span = self._close(id(_job(event)))
        if span is None:
            return
        outcome = str(event.extra.get("outcome"))
        span.set_attribute("activejob.outcome", outcome)
        if event.extra.get("halted"):
            span.set_attribute("activejob.halted", True)
        # A discard is the job's own rule at work: recorded, but not an error.
        _end(span, event.exception, error=outcome in ("failed", "retry", "interrupted"))

    def _span_event(self, event: events.Event) -> None:
        attributes: dict[str, Any] = {}
        if event.exception is not None:
            attributes["exception.type"] = type(event.exception).__qualname__
            attributes["exception.message"] = str(event.exception)
        for key in ("reason", "executions"):
            if key in event.extra:
                attributes[f"activejob.{key}"] = event.extra[key]
        trace.get_current_span().add_event(f"activejob.{event.name}", attributes)

    # -- pairing start and end events --------------------------------------------------------

    def _open(
        self,
        key: int,
        span: trace.Span,
        parent: otel_context.Context | None,
        carriers: list[JobCore],
    ) -> None:
        current = trace.set_span_in_context(span, parent)
        for job in carriers:
            propagate.inject(job.metadata, context=current)
        token = otel_context.attach(current)
        _open.set((*_open.get(), _Open(id(self), key, span, token)))

    def _close(self, key: int) -> trace.Span | None:
        stack = _open.get()
        for index in range(len(stack) - 1, -1, -1):
            entry = stack[index]
            if entry.owner == id(self) and entry.key == key:
                _open.set(stack[:index] + stack[index + 1 :])
                otel_context.detach(entry.token)
                return entry.span
        return None


def _job(event: events.Event) -> JobCore:
    assert event.job is not None, f"{event.name} events carry a job"
    return event.job


def _has_span(ctx: otel_context.Context) -> bool:
    return trace.get_current_span(ctx).get_span_context().is_valid


def _job_attributes(job: JobCore) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": SYSTEM,
        "messaging.destination.name": job.queue_name,
        "messaging.message.id": job.job_id,
        "activejob.job_class": job.job_class_name,
    }
    if job.priority is not None:
        attributes["activejob.priority"] = job.priority
    return attributes


def _end(span: trace.Span, exception: BaseException | None, *, error: bool) -> None:
    if exception is not None:
        span.record_exception(exception)
        if error:
            span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))
    span.end()


_active: TracingInstrumentation | None = None


def instrument(tracer_provider: trace.TracerProvider | None = None) -> TracingInstrumentation:
    """Make spans for job events; ``uninstrument()`` on the result stops.

    ``tracer_provider`` defaults to the global one. Calling it again replaces
    the previous instrumentation, so no span is made twice.

    Example::

        tracing = instrument()
        ...
        tracing.uninstrument()
    """
    global _active
    if _active is not None:
        _active.uninstrument()
    _active = TracingInstrumentation(tracer_provider)
    return _active
