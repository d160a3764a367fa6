"""Events: every name the core and the adapters emit, with the fields docs/events.md
promises, and subscribers that fail without breaking a job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import activejob
from activejob import (
    Abort,
    EnqueueError,
    Job,
    before_enqueue,
    before_perform,
    discard_on,
    events,
    rescue_from,
    retry_on,
)
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.inline import InlineAdapter
from activejob.adapters.test import TestAdapter
from activejob.events import Event
from activejob.job.execution import run
from tests.support import RecordingAdapter


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


class Echo(Job):
    queue_as = "echo"
    priority = 5

    def perform(self, value: Any) -> Any:
        return value


class Vetoed(Job):
    @before_enqueue
    def veto(self) -> None:
        raise Abort

    def perform(self) -> None: ...


class Halting(Job):
    @before_perform
    def stop(self) -> None:
        raise Abort

    def perform(self) -> None:
        raise AssertionError("must not run")


class Rescued(Job):
    def perform(self) -> None:
        raise ValueError("handled")

    @rescue_from(ValueError)
    def handle(self, exc: ValueError) -> str:
        return "rescued"


@retry_on(Flaky, wait=0, attempts=2, jitter=0)
class Retried(Job):
    def perform(self) -> None:
        raise Flaky("again")


exhausted: list[BaseException] = []


@retry_on(Flaky, wait=0, attempts=1, jitter=0, on_exhausted=lambda job, exc: exhausted.append(exc))
class Exhausted(Job):
    def perform(self) -> None:
        raise Flaky("once is enough")


@discard_on(Fatal)
class Discarded(Job):
    def perform(self) -> None:
        raise Fatal("drop it")


class Broken(Job):
    def perform(self) -> None:
        raise LookupError("unhandled")


class Interrupted(Job):
    def perform(self) -> None:
        raise KeyboardInterrupt


@pytest.fixture
def seen() -> Iterator[list[Event]]:
    got: list[Event] = []
    events.subscribe(events.ALL, got.append)
    yield got
    events.unsubscribe(events.ALL, got.append)


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


def named(seen: list[Event], name: str) -> list[Event]:
    return [e for e in seen if e.name == name]


# -- subscribing ---------------------------------------------------------------------------


def test_subscribe_unsubscribe_and_has_subscribers() -> None:
    got: list[Event] = []
    assert not events.has_subscribers("custom_event")
    assert events.subscribe("custom_event", got.append) == got.append
    assert events.has_subscribers("custom_event")
    events.emit("custom_event", detail=1)
    events.unsubscribe("custom_event", got.append)  # a new bound method, equal to the first
    events.emit("custom_event", detail=2)
    assert [e.extra for e in got] == [{"detail": 1}]
    assert not events.has_subscribers("custom_event")
    events.unsubscribe("custom_event", got.append)  # unknown: ignored


def test_a_gate_that_says_no_spares_the_events_without_an_exception() -> None:
    got: list[Event] = []
    gate_open = False
    events.subscribe("custom_event", got.append, when=lambda: gate_open)
    try:
        events.emit("custom_event", detail=1)  # shut: not made
        events.emit("custom_event", exception=KeyError("k"), detail=2)  # an exception: always
        with events.instrument("custom_event", None, None, detail=3):
            pass  # shut: no end event
        with pytest.raises(KeyError), events.instrument("custom_event", None, None, detail=4):
            raise KeyError("k")
        gate_open = True
        events.emit("custom_event", detail=5)
        with events.instrument("custom_event", None, None, detail=6):
            pass
    finally:
        events.unsubscribe("custom_event", got.append)
    assert [e.extra["detail"] for e in got] == [2, 4, 5, 6]
    assert got[1].duration is not None  # the block's end event, timed as ever


@pytest.mark.parametrize("other", ["custom_event", events.ALL])
def test_a_subscriber_without_a_gate_keeps_the_events_coming(other: str) -> None:
    gated: list[Event] = []
    plain: list[Event] = []
    events.subscribe("custom_event", gated.append, when=lambda: False)
    events.subscribe(other, plain.append)
    try:
        events.emit("custom_event", detail=1)  # someone wants it: made, and delivered to all
        events.unsubscribe(other, plain.append)
        events.emit("custom_event", detail=2)  # only the shut gate is left
    finally:
        events.unsubscribe("custom_event", gated.append)
        events.unsubscribe(other, plain.append)
    assert [e.extra for e in plain] == [{"detail": 1}]
    assert [e.extra for e in gated] == [{"detail": 1}]


@pytest.mark.parametrize("listening", [("job_step",), ("job_step_start",), ("job_step", "*")])
def test_instrument_reaches_each_subscriber_of_its_two_events(listening: tuple[str, ...]) -> None:
    got: list[Event] = []
    for name in listening:
        events.subscribe(name, got.append)
    try:
        with pytest.raises(KeyError), events.instrument("job_step", None, None, step=1) as info:
            info["reached"] = True
            raise KeyError("boom")
    finally:
        for name in listening:
            events.unsubscribe(name, got.append)
    names = [e.name for e in got]
    if "*" in listening:  # the "*" subscriber hears both, the named one its own
        assert names == ["job_step_start", "job_step", "job_step"]
    else:
        assert names == [n for n in ("job_step_start", "job_step") if n in listening]
    for event in got:
        if event.name == "job_step":
            assert isinstance(event.exception, KeyError) and event.duration is not None
            assert event.extra == {"step": 1, "reached": True}
        else:
            assert event.duration is None and event.extra == {"step": 1}


# -- enqueue ------------------------------------------------------------------------------


def test_enqueue_events(seen: list[Event], adapter: TestAdapter) -> None:
    job = Echo.perform_later(1)
    start, end = named(seen, "enqueue_start"), named(seen, "enqueue")
    assert [e.job for e in start] == [job] and [e.job for e in end] == [job]
    assert start[0].adapter is adapter and end[0].adapter is adapter
    assert start[0].duration is None and end[0].duration is not None and end[0].duration >= 0
    assert end[0].exception is None and end[0].extra == {"aborted": False}
    assert seen.index(start[0]) < seen.index(end[0])


def test_enqueue_at_events(seen: list[Event], adapter: TestAdapter) -> None:
    job = Echo.set(wait=60).perform_later(1)
    assert named(seen, "enqueue") == []
    (start,) = named(seen, "enqueue_at_start")
    (end,) = named(seen, "enqueue_at")
    assert start.job is job and end.job is job and end.adapter is adapter
    assert job.scheduled_at is not None and end.duration is not None


def test_enqueue_failure_carries_the_exception(seen: list[Event]) -> None:
    failing = RecordingAdapter(error=OSError("down"))
    activejob.configure(adapter=failing)
    with pytest.raises(EnqueueError):
        Echo.perform_later(1)
    (end,) = named(seen, "enqueue")
    assert isinstance(end.exception, EnqueueError) and end.adapter is failing
    assert isinstance(end.exception.__cause__, OSError)


def test_aborted_enqueue_is_reported(seen: list[Event], adapter: TestAdapter) -> None:
    job = Vetoed.perform_later()
    (end,) = named(seen, "enqueue")
    assert end.job is job and end.exception is None and end.extra == {"aborted": True}
    assert adapter.enqueued_jobs == []


def test_start_subscribers_may_add_metadata_to_the_payload(adapter: TestAdapter) -> None:
    def stamp(event: Event) -> None:
        assert event.job is not None
        event.job.metadata["stamp"] = "from-start-event"

    events.subscribe("enqueue_start", stamp)
    try:
        Echo.perform_later(1)
    finally:
        events.unsubscribe("enqueue_start", stamp)
    assert adapter.enqueued_jobs[0].payload["metadata"] == {"stamp": "from-start-event"}


def test_enqueue_all_events(seen: list[Event], adapter: TestAdapter) -> None:
    jobs = [Echo(1), Echo(2).set(wait=5)]
    assert activejob.perform_all_later(jobs) == 2
    (start,) = named(seen, "enqueue_all_start")
    (end,) = named(seen, "enqueue_all")
    assert start.job is None and start.adapter is adapter and start.extra["jobs"] == jobs
    assert end.extra["jobs"] == jobs and end.extra["enqueued_count"] == 2
    assert end.exception is None and end.duration is not None


def test_enqueue_all_failure(seen: list[Event]) -> None:
    activejob.configure(adapter=RecordingAdapter(error=OSError("down")))
    with pytest.raises(EnqueueError):
        activejob.perform_all_later([Echo(1)])
    (end,) = named(seen, "enqueue_all")
    assert isinstance(end.exception, EnqueueError) and "enqueued_count" not in end.extra


# -- perform ------------------------------------------------------------------------------


def test_perform_events_on_success(seen: list[Event], adapter: TestAdapter) -> None:
    Echo.perform_later("v")
    adapter.perform_enqueued_jobs()
    (start,) = named(seen, "perform_start")
    (end,) = named(seen, "perform")
    assert start.adapter is adapter and end.adapter is adapter
    assert start.job is end.job and end.job is not None and end.job.executions == 1
    assert end.extra == {"outcome": "succeeded", "halted": False}
    assert end.exception is None and end.duration is not None and end.duration >= 0


def test_halted_perform(seen: list[Event]) -> None:
    run(Halting())
    (end,) = named(seen, "perform")
    assert end.extra == {"outcome": "succeeded", "halted": True} and end.exception is None
    assert end.adapter is None  # run() was not told which adapter ran it


def test_rescued_perform_is_a_success_without_exception(seen: list[Event]) -> None:
    assert run(Rescued()).value == "rescued"
    (end,) = named(seen, "perform")
    assert end.extra["outcome"] == "succeeded" and end.exception is None


def test_retry_events(seen: list[Event], adapter: TestAdapter) -> None:
    Retried.perform_later()
    adapter.perform_enqueued_jobs()
    (end,) = named(seen, "perform")
    assert end.extra["outcome"] == "retry" and isinstance(end.exception, Flaky)
    (retry,) = named(seen, "enqueue_retry")
    assert retry.job is end.job and retry.adapter is adapter
    assert isinstance(retry.exception, Flaky) and retry.extra == {"wait": 0.0, "executions": 1}
    assert seen.index(end) < seen.index(retry) < seen.index(named(seen, "enqueue_at")[0])


def test_retry_stopped_event(seen: list[Event], adapter: TestAdapter) -> None:
    adapter.perform_enqueued = True
    with pytest.raises(Flaky):
        Retried.perform_later()
    (stopped,) = named(seen, "retry_stopped")
    assert isinstance(stopped.exception, Flaky) and stopped.extra == {"executions": 2}
    assert stopped.job is not None and stopped.job.executions == 2
    assert [e.extra["outcome"] for e in named(seen, "perform")] == ["retry", "failed"]


def test_discard_event(seen: list[Event], adapter: TestAdapter) -> None:
    Discarded.perform_later()
    adapter.perform_enqueued_jobs()
    (discard,) = named(seen, "discard")
    assert isinstance(discard.exception, Fatal) and discard.extra == {"reason": "discard_on"}
    assert discard.adapter is adapter
    (end,) = named(seen, "perform")
    assert end.extra["outcome"] == "discarded" and end.exception is discard.exception


def test_exhausted_retries_handled_by_on_exhausted_are_a_discard(
    seen: list[Event], adapter: TestAdapter
) -> None:
    exhausted.clear()
    Exhausted.perform_later()
    adapter.perform_enqueued_jobs()
    (stopped,) = named(seen, "retry_stopped")
    (discard,) = named(seen, "discard")
    (end,) = named(seen, "perform")
    assert isinstance(discard.exception, Flaky) and discard.extra == {"reason": "exhausted"}
    assert discard.job is end.job and discard.adapter is adapter
    assert stopped.job is end.job and stopped.exception is discard.exception
    assert stopped.adapter is None and stopped.extra == {"executions": 1}
    assert end.extra["outcome"] == "discarded" and end.exception is discard.exception
    assert exhausted == [discard.exception]
    assert named(seen, "enqueue_retry") == []
    # docs/events.md: retry_stopped, then discard, then perform.
    assert seen.index(stopped) < seen.index(discard) < seen.index(end)


def test_failed_perform(seen: list[Event]) -> None:
    outcome = run(Broken())
    (end,) = named(seen, "perform")
    assert outcome.kind == "failed" and end.extra["outcome"] == "failed"
    assert end.exception is outcome.exception


def test_interrupted_perform_still_closes_its_event(seen: list[Event]) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(Interrupted())
    (end,) = named(seen, "perform")
    assert end.extra["outcome"] == "interrupted" and isinstance(end.exception, KeyboardInterrupt)


def test_inline_adapter_names_itself_in_perform_and_retry_events(seen: list[Event]) -> None:
    activejob.configure(adapter="inline:")
    with pytest.raises(Flaky):
        Retried.perform_later()
    performs = named(seen, "perform")
    assert [e.extra["outcome"] for e in performs] == ["retry", "failed"]
    assert all(isinstance(e.adapter, InlineAdapter) for e in performs)
    (retry,) = named(seen, "enqueue_retry")
    assert isinstance(retry.adapter, InlineAdapter) and isinstance(retry.exception, Flaky)
    assert retry.extra == {"wait": 0.0, "executions": 1}


def test_async_adapter_names_itself_in_perform_events(seen: list[Event]) -> None:
    pool = AsyncAdapter(threads=1)
    activejob.configure(adapter=pool)
    Echo.perform_later(1)
    pool.join(timeout=10)
    pool.shutdown()
    (end,) = named(seen, "perform")
    assert end.adapter is pool


# -- failing subscribers --------------------------------------------------------------------


def test_a_failing_subscriber_never_breaks_a_job(
    adapter: TestAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def explode(event: Event) -> None:
        calls.append(event.name)
        raise RuntimeError(f"subscriber broke on {event.name}")

    exhausted.clear()
    events.subscribe(events.ALL, explode)
    try:
        with caplog.at_level(logging.ERROR, logger="activejob.events"):
            assert Echo.perform_later(1).successfully_enqueued
            Retried.perform_later()
            Discarded.perform_later()
            Exhausted.perform_later()
            activejob.perform_all_later([Echo(2)])
            adapter.perform_enqueued_jobs()
            assert run(Echo(3)).value == 3
    finally:
        events.unsubscribe(events.ALL, explode)
    outcomes = [r.outcome.kind for r in adapter.performed_jobs if r.outcome]
    assert outcomes == ["succeeded", "retry", "discarded", "discarded", "succeeded"]
    assert len(exhausted) == 1  # on_exhausted still ran after retry_stopped's subscriber broke
    expected = {"enqueue", "enqueue_at", "enqueue_all", "perform_start", "perform"}
    assert expected | {"enqueue_retry", "retry_stopped", "discard"} <= set(calls)
    failures = [r for r in caplog.records if "subscriber" in r.getMessage()]
    assert len(failures) == len(calls) and all(r.exc_info for r in failures)


def test_the_next_subscriber_still_runs_after_one_fails(adapter: TestAdapter) -> None:
    got: list[Event] = []

    def explode(event: Event) -> None:
        raise RuntimeError("first")

    events.subscribe("perform", explode)
    events.subscribe("perform", got.append)
    try:
        Echo.perform_later(1)
        adapter.perform_enqueued_jobs()
    finally:
        events.unsubscribe("perform", explode)
        events.unsubscribe("perform", got.append)
    assert [e.extra["outcome"] for e in got] == ["succeeded"]
