"""Timeouts and cancellation in one process: the execution seam (``wrapped()``),
``checkpoint()``, the payload, the rules, events and log lines, the ``inline:``,
``async:`` and ``test:`` adapters, and a worker that abandons a runaway thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import activejob
from activejob import Continuable, Job, JobCancelled, JobTimeout, Step, events, job
from activejob.adapters.durable import storage_of
from activejob.errors import DeserializationError
from activejob.flow.timeouts import control_of
from activejob.job.execution import run
from activejob.storage.base import JobState
from activejob.worker.options import WorkerOptions
from activejob.worker.process import WorkerProcess
from tests.flow.timeout_jobs import Hold, NeverChecks, Work
from tests.flow.timeout_jobs import events as noted
from tests.support import wait_for

runs: list[str] = []


class AsyncSlow(Job):
    timeout = 0.2

    async def perform(self) -> None:
        await asyncio.sleep(30)  # sleep-ok: the body the timeout cancels


class SyncChecking(Job):
    timeout = timedelta(milliseconds=200)

    def perform(self) -> None:
        while True:
            self.checkpoint()
            time.sleep(0.005)  # sleep-ok: the job's work between checkpoints


class Swallower(Job):
    timeout = 0.2

    async def perform(self) -> str:
        try:
            await asyncio.sleep(30)  # sleep-ok: the body the timeout cancels
        except asyncio.CancelledError:
            return "swallowed"
        return "slept"


@activejob.retry_on(JobTimeout, wait=0, attempts=3, jitter=0)
class TimesOutOnce(Job):
    timeout = 0.2

    async def perform(self) -> str:
        runs.append(f"run{self.executions}")
        if self.executions == 1:
            await asyncio.sleep(30)  # sleep-ok: the body the timeout cancels
        return "done"


@activejob.retry_on(Exception, wait=0, attempts=5, jitter=0)
class Cancellable(Job):
    discarded: list[BaseException] = []

    async def perform(self, started: threading.Event) -> None:
        started.set()
        await asyncio.sleep(30)  # sleep-ok: the body the timeout cancels

    @activejob.after_discard
    def note(self, exc: BaseException) -> None:
        Cancellable.discarded.append(exc)


class Rows(Continuable, Job):
    timeout = 0.3

    def perform(self) -> None:
        self.step("rows", self.rows, start=0)

    def rows(self, step: Step) -> None:
        for _ in range(step.cursor, 10_000):
            time.sleep(0.01)  # sleep-ok: the step's work between checkpoints
            step.advance()


@job(timeout=0.2)
async def slow_function() -> None:
    await asyncio.sleep(30)  # sleep-ok: the body the timeout cancels


class Plain(Job):
    def perform(self) -> str:
        return "plain"


def timed(call: Any) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_an_async_job_past_its_timeout_is_cancelled_with_job_timeout() -> None:
    error, took = timed(AsyncSlow.perform_now)
    assert isinstance(error, JobTimeout) and error.seconds == 0.2
    assert isinstance(error.__cause__, asyncio.CancelledError)
    assert took < 2


def test_a_sync_job_meets_its_timeout_at_a_checkpoint() -> None:
    error, took = timed(SyncChecking.perform_now)
    assert isinstance(error, JobTimeout) and "timeout of 0.2s" in str(error)
    assert took < 2


def test_a_job_function_takes_a_timeout() -> None:
    assert slow_function.job_class.timeout == 0.2
    error, _ = timed(slow_function.perform_now)
    assert isinstance(error, JobTimeout)


def test_an_async_job_that_swallows_its_cancellation_still_times_out() -> None:
    error, _ = timed(Swallower.perform_now)
    assert isinstance(error, JobTimeout)


def test_retry_on_job_timeout_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    activejob.configure(adapter="inline:")
    runs.clear()
    assert TimesOutOnce.perform_now() is None  # the retry ran inline, at once
    assert runs == ["run1", "run2"]


def test_a_continuation_fails_with_the_timeout_and_keeps_its_cursor() -> None:
    job = Rows()
    outcome = run(job)
    assert outcome.kind == "failed" and isinstance(outcome.exception, JobTimeout)
    cursor = job.serialize()["continuation"]["cursor"]
    assert isinstance(cursor, int) and cursor > 0  # a retry resumes from it


def test_set_timeout_travels_in_the_payload_and_overrides_the_class() -> None:
    plain = Plain().serialize()
    assert "timeout" not in plain  # payloads of jobs without one are unchanged
    configured = SyncChecking.set(timeout=timedelta(seconds=5)).build()
    payload = configured.serialize()
    assert payload["timeout"] == 5.0
    assert Job.deserialize(payload).timeout == 5.0
    assert Job.deserialize(SyncChecking().serialize()).timeout == 0.2
    del payload["timeout"]
    assert Job.deserialize(payload).timeout == timedelta(milliseconds=200)  # the class's


@pytest.mark.parametrize("bad", ["soon", True, 0, -1, float("nan"), timedelta(0)])
def test_a_bad_timeout_is_refused_where_it_is_given(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="timeout"):
        type("BadTimeout", (Job,), {"timeout": bad, "perform": lambda self: None})
    with pytest.raises((TypeError, ValueError), match="timeout"):
        Plain.set(timeout=bad)
    payload = {**Plain().serialize(), "timeout": bad if not isinstance(bad, timedelta) else "x"}
    with pytest.raises(DeserializationError, match="timeout"):
        Job.deserialize(payload)


def test_a_plain_sync_job_runs_without_a_control() -> None:
    job = Plain()
    assert run(job).value == "plain"
    assert job._activejob_control is None


def test_timeout_events_and_log_line(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[events.Event] = []
    events.subscribe("timeout", seen.append)
    try:
        with caplog.at_level(logging.WARNING, logger="activejob"):
            outcome = run(AsyncSlow())
    finally:
        events.unsubscribe("timeout", seen.append)
    assert outcome.kind == "failed"
    [event] = seen
    assert event.extra == {"timeout": 0.2, "abandoned": False}
    assert isinstance(event.exception, JobTimeout)
    assert any("Timed out tests.flow.test_timeouts.AsyncSlow" in r.message for r in caplog.records)


def test_a_cancel_ends_a_running_async_job_discarded_whatever_its_rules() -> None:
    Cancellable.discarded.clear()
    started = threading.Event()
    job = Cancellable(started)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(run(job)))
    thread.start()
    assert started.wait(5)
    control_of(job).request_cancel()
    thread.join(5)
    [outcome] = result
    assert outcome.kind == "discarded" and isinstance(outcome.exception, JobCancelled)
    assert len(Cancellable.discarded) == 1  # after_discard ran; retry_on(Exception) did not


def test_a_cancel_asked_before_the_run_stops_it_at_once() -> None:
    job = SyncChecking()
    control_of(job).request_cancel()
    outcome = run(job)
    assert outcome.kind == "discarded" and isinstance(outcome.exception, JobCancelled)


def test_the_async_and_test_adapters_honour_timeouts() -> None:
    seen: list[events.Event] = []
    events.subscribe("timeout", seen.append)
    try:
        activejob.configure(adapter="async:")
        AsyncSlow.perform_later()
        SyncChecking.perform_later()
        adapter = AsyncSlow().adapter()
        adapter.join(10)  # type: ignore[attr-defined]
        activejob.configure(adapter="test:")
        AsyncSlow.perform_later()
        with pytest.raises(JobTimeout):
            activejob.testing.perform_enqueued_jobs()
    finally:
        events.unsubscribe("timeout", seen.append)
    assert sorted(type(e.job).__name__ for e in seen) == ["AsyncSlow", "AsyncSlow", "SyncChecking"]


def test_a_worker_abandons_a_runaway_thread_and_drops_its_late_return(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=url)
    storage = storage_of(url)
    storage.migrate()
    ledger, release = str(tmp_path / "ledger"), str(tmp_path / "release")
    stuck = NeverChecks.perform_later(ledger, "stuck", release)
    other = Work.perform_later(ledger, "other", 1.0)
    options = WorkerOptions(threads=2, timeout_grace=0.2, heartbeat_interval=0.2, recover_after=5)
    worker = WorkerProcess(storage, options)
    seen: list[events.Event] = []
    events.subscribe("*", seen.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: (i := storage.get(stuck.job_id)) is not None and i.state.finished, 10)
        assert worker.replace_needed and worker.executor.lost_slots == 1
        assert worker.stopping.is_set()  # claims no more; drains its other job
        wait_for(lambda: noted(ledger, "other") == ["start", "done"], 10)
        thread.join(10)
        assert not thread.is_alive()  # the drain did not wait for the runaway thread
    finally:
        Path(release).touch()
    wait_for(lambda: noted(ledger, "stuck") == ["start", "end"], 10)
    wait_for(lambda: not any(t.name.startswith("activejob-thread") for t in threading.enumerate()))
    events.unsubscribe("*", seen.append)
    mine = [e for e in seen if e.job is not None and e.job.job_id == stuck.job_id]
    assert [e.name for e in mine if e.name in ("perform_start", "timeout", "perform")] == [
        "perform_start",
        "timeout",
        "perform",  # once: the thread's late end reports nothing
    ]
    assert mine[1].extra["abandoned"] is True
    info = storage.get(stuck.job_id)
    assert info is not None and info.state is JobState.FAILED
    assert info.error is not None and info.error.exception_class == "activejob.errors.JobTimeout"
    other_info = storage.get(other.job_id)
    assert other_info is not None and other_info.state is JobState.SUCCEEDED


def test_a_cancel_reaches_a_job_the_worker_holds_but_has_not_started(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    activejob.configure(adapter=url)
    storage = storage_of(url)
    storage.migrate()
    ledger, release = str(tmp_path / "ledger"), str(tmp_path / "release")
    Hold.perform_later(ledger, "first", release)
    queued = Work.perform_later(ledger, "queued")
    options = WorkerOptions(threads=1, prefetch=1, heartbeat_interval=0.1, recover_after=5)
    worker = WorkerProcess(storage, options)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: noted(ledger, "first") == ["start"], 10)
        wait_for(
            lambda: (i := storage.get(queued.job_id)) is not None and i.state.value == "running"
        )
        assert storage.cancel(queued.job_id).outcome == "requested"
        wait_for(lambda: any(t.job.job_id == queued.job_id and t.job._activejob_control
                             for t in worker.executor.held_tasks()), 10)  # fmt: skip
    finally:
        Path(release).touch()
    wait_for(lambda: (i := storage.get(queued.job_id)) is not None and i.state.finished, 10)
    info = storage.get(queued.job_id)
    assert info is not None and info.state is JobState.DISCARDED
    assert noted(ledger, "queued") == []  # stopped as it started, before perform
    worker.stop()
    thread.join(10)
