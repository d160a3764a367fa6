"""OpenTelemetry: spans for enqueue and perform, joined into one trace through the
payload, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace")

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

import activejob
from activejob import Abort, EnqueueError, Job, before_enqueue, discard_on, retry_on
from activejob.adapters.test import TestAdapter
from activejob.contrib import opentelemetry as aj_otel
from tests.support import RecordingAdapter

ROOT = Path(__file__).resolve().parents[2]
M = "tests.unit.test_contrib_opentelemetry"
tracer: trace.Tracer | None = None
inside: list[Any] = []


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


class ChildJob(Job):
    def perform(self) -> None: ...


class WorkJob(Job):
    queue_as = "work"
    priority = 4

    def perform(self, n: int) -> None:
        assert tracer is not None
        inside.append(trace.get_current_span().get_span_context())
        with tracer.start_as_current_span("inside work"):
            pass
        if n:
            ChildJob.perform_later()


class AsyncWorkJob(Job):
    async def perform(self) -> None:
        await asyncio.sleep(0)  # sleep-ok: yields to the event loop once, no waiting
        inside.append(trace.get_current_span().get_span_context())


class Broken(Job):
    def perform(self) -> None:
        raise LookupError("boom")


@retry_on(Flaky, wait=0, attempts=2, jitter=0)
class Retried(Job):
    def perform(self) -> None:
        raise Flaky("again")


@discard_on(Fatal)
class Discarded(Job):
    def perform(self) -> None:
        raise Fatal("drop")


class Vetoed(Job):
    @before_enqueue
    def veto(self) -> None:
        raise Abort

    def perform(self) -> None: ...


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    global tracer
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests")
    inside.clear()
    tracing = aj_otel.instrument(tracer_provider=provider)
    yield memory
    tracing.uninstrument()
    tracer = None


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_perform_joins_the_trace_that_enqueued_it(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    assert tracer is not None
    with tracer.start_as_current_span("request") as request:
        job = WorkJob.perform_later(0)
    adapter.perform_enqueued_jobs()  # later, outside the request
    spans = by_name(exporter)
    enqueue, perform = spans[f"enqueue {M}.WorkJob"], spans[f"perform {M}.WorkJob"]
    trace_id = request.get_span_context().trace_id
    assert {s.context.trace_id for s in spans.values()} == {trace_id}
    assert parent_id(enqueue) == request.get_span_context().span_id
    assert parent_id(perform) == enqueue.context.span_id
    assert parent_id(spans["inside work"]) == perform.context.span_id
    assert inside == [perform.context]
    traceparent = adapter.performed_jobs[0].payload["metadata"]["traceparent"]
    assert traceparent.startswith(f"00-{trace_id:032x}-{enqueue.context.span_id:016x}-")
    assert job.metadata["traceparent"] == traceparent
    assert enqueue.kind is SpanKind.PRODUCER and perform.kind is SpanKind.CONSUMER
    assert enqueue.attributes is not None and perform.attributes is not None
    assert dict(enqueue.attributes) == {
        "messaging.system": "activejob",
        "messaging.destination.name": "work",
        "messaging.message.id": job.job_id,
        "messaging.operation.type": "send",
        "messaging.operation.name": "enqueue",
        "activejob.job_class": f"{M}.WorkJob",
        "activejob.priority": 4,
        "activejob.adapter": "test",
    }
    assert perform.attributes["activejob.outcome"] == "succeeded"
    assert perform.attributes["activejob.executions"] == 1
    assert perform.attributes["messaging.operation.type"] == "process"
    assert perform.status.status_code is StatusCode.UNSET
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached


def test_jobs_enqueued_by_a_job_stay_in_its_trace(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    WorkJob.perform_later(1)
    adapter.perform_enqueued_jobs()
    adapter.perform_enqueued_jobs()
    spans = by_name(exporter)
    perform = spans[f"perform {M}.WorkJob"]
    child_enqueue, child_perform = spans[f"enqueue {M}.ChildJob"], spans[f"perform {M}.ChildJob"]
    assert parent_id(child_enqueue) == perform.context.span_id
    assert parent_id(child_perform) == child_enqueue.context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1


def test_scheduled_enqueue_and_bulk_enqueue(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    WorkJob.set(wait=60).perform_later(0)
    enqueue = by_name(exporter)[f"enqueue {M}.WorkJob"]
    assert enqueue.attributes is not None and "activejob.scheduled_at" in enqueue.attributes
    exporter.clear()
    activejob.perform_all_later([ChildJob(), ChildJob()])
    adapter.perform_enqueued_jobs(lambda r: r.job_class.endswith("ChildJob"))
    finished = exporter.get_finished_spans()
    (bulk,) = [s for s in finished if s.name == "enqueue_all"]
    performs = [s for s in finished if s.name == f"perform {M}.ChildJob"]
    assert bulk.attributes is not None and bulk.attributes["messaging.batch.message_count"] == 2
    assert bulk.attributes["activejob.enqueued_count"] == 2
    assert len(performs) == 2 and all(parent_id(p) == bulk.context.span_id for p in performs)


def test_a_failed_job_marks_its_span(exporter: InMemorySpanExporter, adapter: TestAdapter) -> None:
    Broken.perform_later()
    with pytest.raises(LookupError):
        adapter.perform_enqueued_jobs()
    perform = by_name(exporter)[f"perform {M}.Broken"]
    assert perform.status.status_code is StatusCode.ERROR
    assert perform.status.description == "LookupError: boom"
    assert [e.name for e in perform.events] == ["exception"]
    assert not trace.get_current_span().get_span_context().is_valid


def test_a_discard_is_recorded_but_not_an_error(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    Discarded.perform_later()
    adapter.perform_enqueued_jobs()
    perform = by_name(exporter)[f"perform {M}.Discarded"]
    assert perform.status.status_code is StatusCode.UNSET
    assert [e.name for e in perform.events] == ["activejob.discard", "exception"]
    assert perform.events[0].attributes is not None
    assert perform.events[0].attributes["activejob.reason"] == "discard_on"


def test_retries_stay_in_the_first_trace(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    Retried.perform_later()
    adapter.perform_enqueued_jobs()  # fails once: the retry is enqueued here, outside any span
    with pytest.raises(Flaky):
        adapter.perform_enqueued_jobs()
    spans = exporter.get_finished_spans()
    enqueues = [s for s in spans if s.name == f"enqueue {M}.Retried"]
    performs = [s for s in spans if s.name == f"perform {M}.Retried"]
    assert len(enqueues) == 2 and len(performs) == 2
    assert len({s.context.trace_id for s in spans}) == 1
    assert parent_id(enqueues[1]) == enqueues[0].context.span_id
    assert [p.attributes["activejob.outcome"] for p in performs if p.attributes] == [
        "retry",
        "failed",
    ]
    assert [e.name for e in performs[1].events] == ["activejob.retry_stopped", "exception"]


def test_enqueue_failures_and_aborts(exporter: InMemorySpanExporter) -> None:
    activejob.configure(adapter=RecordingAdapter(error=OSError("down")))
    with pytest.raises(EnqueueError):
        ChildJob.perform_later()
    activejob.configure(adapter=TestAdapter())
    Vetoed.perform_later()
    spans = by_name(exporter)
    failed, aborted = spans[f"enqueue {M}.ChildJob"], spans[f"enqueue {M}.Vetoed"]
    assert failed.status.status_code is StatusCode.ERROR
    assert aborted.attributes is not None and aborted.attributes["activejob.aborted"] is True
    assert aborted.status.status_code is StatusCode.UNSET


def test_async_jobs_run_inside_their_span(exporter: InMemorySpanExporter) -> None:
    activejob.configure(adapter="inline:")
    AsyncWorkJob.perform_later()
    perform = by_name(exporter)[f"perform {M}.AsyncWorkJob"]
    assert inside == [perform.context]


def test_perform_now_nests_under_the_current_span(exporter: InMemorySpanExporter) -> None:
    assert tracer is not None
    with tracer.start_as_current_span("caller") as caller:
        ChildJob.perform_now()
    perform = by_name(exporter)[f"perform {M}.ChildJob"]
    assert parent_id(perform) == caller.get_span_context().span_id


def test_uninstrument_and_instrument_again(
    exporter: InMemorySpanExporter, adapter: TestAdapter
) -> None:
    provider = TracerProvider()
    other = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(other))
    replacement = aj_otel.instrument(tracer_provider=provider)  # replaces the fixture's
    ChildJob.perform_later()
    assert exporter.get_finished_spans() == ()
    assert [s.name for s in other.get_finished_spans()] == [f"enqueue {M}.ChildJob"]
    replacement.uninstrument()
    ChildJob.perform_later()
    assert len(other.get_finished_spans()) == 1


def test_import_activejob_imports_no_opentelemetry() -> None:
    code = "import sys, activejob, activejob.contrib; print('opentelemetry' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"
