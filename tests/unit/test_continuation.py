"""Continuations in one process: steps, cursors, progress in the payload, resumes
after an interruption or an error, ``max_resumptions``, events, and the
in-process adapters (docs/continuations.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import activejob
from activejob import Continuable, DeserializationError, Job, SerializationError, Step, events
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.inline import InlineAdapter
from activejob.continuation import Interrupted, Progress
from activejob.errors import ContinuationError, ResumptionLimitError
from activejob.job.core import JobCore
from activejob.job.execution import run
from activejob.storage.base import JobState, Result
from activejob.testing import (
    interrupt_job_after_step,
    interrupt_job_during_step,
    perform_enqueued_jobs,
    performing_enqueued_jobs,
    use_test_adapter,
)
from activejob.worker.outcomes import Tally

done: list[Any] = []


class Flaky(Exception):
    pass


class ImportJob(Continuable, Job):
    def perform(self, count: int) -> None:
        self.step("download", self.download)
        self.step("rows", self.rows, start=0)
        self.step("report", lambda: done.append("report"))

    def download(self) -> None:
        done.append("download")

    def rows(self, step: Step) -> None:
        for row in range(step.cursor, self.arguments[0]):
            done.append(row)
            step.advance()


class AsyncImportJob(Continuable, Job):
    async def perform(self, count: int) -> None:
        await self.step("download", self.download)
        await self.step("rows", self.rows, start=0)

    async def download(self) -> None:
        done.append("download")

    async def rows(self, step: Step) -> None:
        for row in range(step.cursor, self.arguments[0]):
            done.append(row)
            step.advance()


class FailsAt(Continuable, Job):
    """Raises at ``fail_at`` while ``failures`` is not empty (one failure each)."""

    failures: list[int] = []

    def perform(self, count: int, fail_at: int) -> None:
        self.step("rows", self.rows, start=0)

    def rows(self, step: Step) -> None:
        count, fail_at = self.arguments
        for row in range(step.cursor, count):
            if row == fail_at and FailsAt.failures:
                FailsAt.failures.pop()
                raise Flaky(f"row {row}")
            done.append(row)
            step.advance()


@activejob.retry_on(Flaky, wait=0, attempts=3, jitter=0)
class RetriedFromTheCursor(Continuable, Job):
    failures: list[int] = []

    def perform(self) -> None:
        self.step("setup", lambda: done.append("setup"))
        self.step("rows", self.rows, start=0)

    def rows(self, step: Step) -> None:
        for row in range(step.cursor, 4):
            if row == 2 and RetriedFromTheCursor.failures:
                RetriedFromTheCursor.failures.pop()
                raise Flaky("before any progress in this run")
            done.append(row)
            step.set(row + 1)


class Capped(Continuable, Job):
    max_resumptions = 2

    def perform(self) -> None:
        self.step("rows", self.rows, start=0)

    def rows(self, step: Step) -> None:
        while True:
            step.advance()


def stop_after(calls: int) -> Any:
    """A stop check that says "stop" from its ``calls``-th question on."""
    asked = [0]

    def stopping() -> bool:
        asked[0] += 1
        return asked[0] >= calls

    return stopping


def again(job: Job) -> Job:
    """The job as the next worker sees it: its payload through JSON and back."""
    rebuilt: Job = JobCore.deserialize(json.loads(json.dumps(job.serialize())))  # type: ignore[assignment]
    return rebuilt


@pytest.fixture(autouse=True)
def clean() -> Iterator[list[events.Event]]:
    done.clear()
    FailsAt.failures = []
    RetriedFromTheCursor.failures = []
    seen: list[events.Event] = []
    names = ("step_started", "step", "step_skipped", "interrupt", "resume", "perform")
    handlers = [(name, events.subscribe(name, seen.append)) for name in names]
    yield seen
    for name, handler in handlers:
        events.unsubscribe(name, handler)


# -- steps and cursors -------------------------------------------------------------------


def test_steps_run_in_order_to_the_end_without_a_stopping_worker() -> None:
    assert ImportJob.perform_now(3) is None
    assert done == ["download", 0, 1, 2, "report"]


def test_an_interruption_keeps_the_finished_steps_and_the_cursor() -> None:
    job = ImportJob(10)
    # Asked at the start of "rows" (after progress), then at each advance: "stop"
    # at the advance past row 1.
    outcome = run(job, stopping=stop_after(3))

    assert outcome.kind == "resumed" and outcome.exception is None
    assert done == ["download", 0, 1]
    assert job.serialize()["continuation"] == {
        "completed": ["download"],
        "current": "rows",
        "cursor": 2,
        "resumptions": 0,
    }


def test_on_resume_a_finished_step_is_skipped_and_the_current_one_gets_its_cursor() -> None:
    job = ImportJob(5)
    run(job, stopping=stop_after(3))
    done.clear()

    outcome = run(again(job))

    assert outcome.kind == "succeeded"
    assert done == [2, 3, 4, "report"]  # no download, rows from the cursor


def test_a_stop_between_steps_resumes_at_the_next_step() -> None:
    job = ImportJob(2)
    # Checks: the start of "rows", advance 0, advance 1, the start of "report".
    outcome = run(job, stopping=stop_after(4))
    assert outcome.kind == "resumed"
    assert job.continuation.completed == ["download", "rows"]
    assert job.continuation.current is None
    done.clear()
    assert run(again(job)).kind == "succeeded"
    assert done == ["report"]


def test_async_steps_are_awaited_interrupted_and_resumed() -> None:
    job = AsyncImportJob(6)
    assert run(job, stopping=stop_after(4)).kind == "resumed"
    assert done == ["download", 0, 1, 2]
    done.clear()
    assert run(again(job)).kind == "succeeded"
    assert done == [3, 4, 5]


def test_the_interruption_is_not_swallowed_by_except_exception_in_a_step() -> None:
    class Careful(Continuable, Job):
        def perform(self) -> None:
            self.step("rows", self.rows, start=0)

        def rows(self, step: Step) -> None:
            try:
                step.advance()
            except Exception:
                done.append("swallowed")

    outcome = run(Careful(), stopping=lambda: True)
    assert outcome.kind == "resumed" and done == []
    assert issubclass(Interrupted, BaseException) and not issubclass(Interrupted, Exception)


def test_set_keeps_any_value_a_job_argument_may_be() -> None:
    moment = datetime(2026, 12, 3, 5, 30, tzinfo=timezone.utc)

    class ByTime(Continuable, Job):
        def perform(self) -> None:
            self.step("since", self.since, start=(moment, 0))

        def since(self, step: Step) -> None:
            done.append(step.cursor)
            step.set((moment, step.cursor[1] + 1))

    job = ByTime()
    run(job, stopping=lambda: True)
    rebuilt = again(job)
    assert rebuilt.continuation.cursor == (moment, 1)  # type: ignore[attr-defined]
    run(rebuilt)
    assert done == [(moment, 0), (moment, 1)]


def test_a_cursor_that_cannot_travel_is_refused_at_set() -> None:
    class Bad(Continuable, Job):
        def perform(self) -> None:
            self.step("rows", lambda step: step.set(object()))

    outcome = run(Bad())
    assert outcome.kind == "failed"
    assert isinstance(outcome.exception, SerializationError)
    assert "the cursor of step 'rows'" in str(outcome.exception)


def test_advance_needs_an_int_cursor() -> None:
    class NoStart(Continuable, Job):
        def perform(self) -> None:
            self.step("rows", lambda step: step.advance())

    outcome = run(NoStart())
    assert isinstance(outcome.exception, TypeError)
    assert "give the step a start (start=0)" in str(outcome.exception)


def test_advance_from_a_value_saves_that_value_plus_one() -> None:
    class From(Continuable, Job):
        def perform(self) -> None:
            self.step("rows", self.rows)

        def rows(self, step: Step) -> None:
            step.advance(from_=41)
            done.append(step.cursor)

    From.perform_now()
    assert done == [42]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda job: job.step("a", lambda: job.step("b", lambda: None)), "cannot be nested"),
        (lambda job: [job.step("a", lambda: None), job.step("a", lambda: None)], "ran twice"),
        (lambda job: job.step("", lambda: None), "non-empty str"),
    ],
    ids=["nested", "twice", "unnamed"],
)
def test_steps_used_wrongly_fail_with_a_clear_error(body: Any, message: str) -> None:
    class Wrong(Continuable, Job):
        def perform(self) -> None:
            body(self)

    outcome = run(Wrong())
    assert outcome.kind == "failed" and message in str(outcome.exception)


def test_steps_that_changed_since_the_interruption_are_refused() -> None:
    payload = ImportJob(3).serialize()
    payload["continuation"] = {"completed": [], "current": "parse", "cursor": 7, "resumptions": 0}
    outcome = run(payload)
    assert isinstance(outcome.exception, ContinuationError)
    assert "where the job was to resume step 'parse' (cursor 7)" in str(outcome.exception)


def test_continuable_must_come_before_job() -> None:
    with pytest.raises(TypeError, match=r"put Continuable before Job"):

        class Backwards(Job, Continuable):  # type: ignore[misc]
            def perform(self) -> None: ...


def test_the_same_instance_run_twice_runs_every_step_twice() -> None:
    job = ImportJob(1)
    job.perform_now()
    job.perform_now()
    assert done == ["download", 0, "report"] * 2


# -- errors, retries, max_resumptions ---------------------------------------------------


def test_an_error_after_progress_resumes_from_the_cursor() -> None:
    FailsAt.failures = [1]
    job = FailsAt(5, 3)
    outcome = run(job)

    assert outcome.kind == "resumed"
    assert isinstance(outcome.exception, Flaky)
    assert done == [0, 1, 2]
    assert job.exception_executions == {}  # not a retry attempt
    done.clear()
    assert run(again(job)).kind == "succeeded"
    assert done == [3, 4]


def test_an_error_without_progress_in_this_run_meets_the_rules() -> None:
    FailsAt.failures = [1]
    outcome = run(FailsAt(5, 0))
    assert outcome.kind == "failed"
    assert isinstance(outcome.exception, Flaky)


def test_a_retry_carries_the_continuation_and_resumes_from_the_cursor() -> None:
    job = RetriedFromTheCursor()
    # First run: setup, rows 0 and 1, then stopped; the second run fails at row 2
    # before any progress, so retry_on retries it, with the progress in the payload.
    assert run(job, stopping=stop_after(3)).kind == "resumed"
    RetriedFromTheCursor.failures = [1]
    second = again(job)
    outcome = run(second)
    assert outcome.kind == "retry"
    retried = json.loads(json.dumps(second.serialize()))
    assert retried["continuation"]["cursor"] == 2
    assert retried["continuation"]["completed"] == ["setup"]
    done.clear()
    assert run(retried).kind == "succeeded"
    assert done == [2, 3]


def test_max_resumptions_fails_the_job_at_the_interruption_past_it() -> None:
    job: Job = Capped()
    kinds = []
    for _ in range(3):
        outcome = run(job, stopping=stop_after(3))
        kinds.append(outcome.kind)
        job = again(job)
    assert kinds == ["resumed", "resumed", "failed"]
    assert isinstance(outcome.exception, ResumptionLimitError)
    assert "after 2 resumptions (max_resumptions = 2)" in str(outcome.exception)


# -- the payload ---------------------------------------------------------------------------


def test_progress_round_trips_through_the_payload() -> None:
    progress = Progress(["a", "b"], "c", {"_aj": "tuple", "v": [1, "x"]}, 3)
    assert Progress.from_json(json.loads(json.dumps(progress.to_json()))).to_json() == {
        "completed": ["a", "b"],
        "current": "c",
        "cursor": {"_aj": "tuple", "v": [1, "x"]},
        "resumptions": 3,
    }
    assert Progress.from_json(progress.to_json()).cursor == (1, "x")


def test_a_payload_without_a_continuation_starts_from_the_first_step() -> None:
    payload = ImportJob(2).serialize()
    del payload["continuation"]  # written before continuations existed
    assert payload["version"] == 1
    assert run(payload).kind == "succeeded"
    assert done == ["download", 0, 1, "report"]


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"completed": "download"},
        {"completed": [], "current": 3},
        {"completed": [], "resumptions": -1},
    ],
)
def test_a_malformed_continuation_is_a_deserialization_error(bad: Any) -> None:
    payload = ImportJob(2).serialize()
    payload["continuation"] = bad
    with pytest.raises(DeserializationError, match="continuation"):
        JobCore.deserialize(payload)


# -- events ----------------------------------------------------------------------------------


def test_events_of_an_interrupted_and_resumed_job(clean: list[events.Event]) -> None:
    job = ImportJob(3)
    run(job, stopping=stop_after(3))
    run(again(job))

    names = [(e.name, e.extra.get("step"), e.extra.get("outcome")) for e in clean]
    assert names == [
        ("step_started", "download", None),
        ("step", "download", None),
        ("step_started", "rows", None),
        ("step", "rows", None),
        ("interrupt", "rows", None),
        ("perform", None, "resumed"),
        ("resume", "rows", None),
        ("step_skipped", "download", None),
        ("step_started", "rows", None),
        ("step", "rows", None),
        ("step_started", "report", None),
        ("step", "report", None),
        ("perform", None, "succeeded"),
    ]
    interrupt = next(e for e in clean if e.name == "interrupt")
    assert interrupt.extra["reason"] == "stopping" and interrupt.extra["cursor"] == 2
    interrupted_step = [e for e in clean if e.name == "step"][1]
    assert interrupted_step.extra["interrupted"] is True
    resume = next(e for e in clean if e.name == "resume")
    assert resume.extra["resumptions"] == 1 and resume.extra["completed"] == ["download"]
    resumed_step = [e for e in clean if e.name == "step_started"][2]
    assert resumed_step.extra == {"step": "rows", "cursor": 2, "resumed": True}


def test_the_log_lines_say_where_the_job_stopped_and_resumed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = ImportJob(3)
    with caplog.at_level("INFO", logger="activejob"):
        run(job, stopping=stop_after(3))
        run(again(job))
    text = caplog.text
    assert "at step 'rows' (cursor 2): the worker is stopping; it resumes there" in text
    assert "interrupted: enqueued again to resume" in text
    assert "Resuming tests.unit.test_continuation.ImportJob" in text
    assert "at step 'rows' (cursor 2) (1 step done, resumption 1)" in text


# -- the in-process adapters ---------------------------------------------------------------


def test_the_test_adapter_and_perform_enqueued_jobs_run_a_continuation_to_the_end() -> None:
    with use_test_adapter() as adapter:
        ImportJob.perform_later(3)
        assert perform_enqueued_jobs() == 1
        assert done == ["download", 0, 1, 2, "report"]
        assert len(adapter.performed_jobs) == 1 and not adapter.enqueued_jobs
        done.clear()
        with performing_enqueued_jobs():
            AsyncImportJob.perform_later(2)
        assert done == ["download", 0, 1]


def test_on_the_test_adapter_an_error_after_progress_is_enqueued_again_with_it() -> None:
    with use_test_adapter() as adapter:
        FailsAt.failures = [1]
        FailsAt.perform_later(4, 2)
        perform_enqueued_jobs()
        assert done == [0, 1]
        [again_enqueued] = adapter.enqueued_jobs
        assert again_enqueued.payload["continuation"]["cursor"] == 2
        perform_enqueued_jobs()
        assert done == [0, 1, 2, 3]


def test_the_inline_adapter_runs_a_continuation_in_the_caller() -> None:
    activejob.configure(adapter=InlineAdapter())
    FailsAt.failures = [1]
    FailsAt.perform_later(4, 2)  # the resume after the error runs at once, here
    assert done == [0, 1, 2, 3]


def test_the_async_adapter_runs_a_continuation_to_the_end() -> None:
    adapter = AsyncAdapter(threads=2)
    activejob.configure(adapter=adapter)
    try:
        ImportJob.perform_later(3)
        AsyncImportJob.perform_later(2)
        adapter.join(10)
    finally:
        adapter.shutdown()
    assert sorted(map(str, done)) == sorted(
        map(str, ["download", 0, 1, 2, "report", "download", 0, 1])
    )


def test_a_resumed_job_is_counted_apart_from_retries() -> None:
    tally = Tally()
    tally.count(Result(1, JobState.SCHEDULED), resumed=True)
    tally.count(Result(2, JobState.SCHEDULED))
    assert (tally.resumed, tally.retried) == (1, 1)
    assert tally.summary() == "ran 2 jobs: 0 succeeded, 0 failed, 1 retried, 0 discarded, 1 resumed"
    assert Tally.from_dict(tally.to_dict()).resumed == 1


# -- interrupting in tests -------------------------------------------------------------------


def test_interrupt_job_during_step_stops_at_that_cursor_and_the_next_perform_resumes() -> None:
    with use_test_adapter() as adapter:
        ImportJob.perform_later(5)
        with interrupt_job_during_step(ImportJob, "rows", cursor=2):
            perform_enqueued_jobs()
        assert done == ["download", 0, 1]
        [waiting] = adapter.enqueued_jobs
        assert waiting.payload["continuation"]["cursor"] == 2
        perform_enqueued_jobs()
        assert done == ["download", 0, 1, 2, 3, 4, "report"]


def test_interrupt_job_during_step_without_a_cursor_stops_at_its_first_checkpoint() -> None:
    with use_test_adapter():
        AsyncImportJob.perform_later(3)
        with interrupt_job_during_step(AsyncImportJob, "rows"):
            perform_enqueued_jobs()
        assert done == ["download", 0]
        perform_enqueued_jobs()
        assert done == ["download", 0, 1, 2]


def test_interrupt_job_after_step_stops_at_the_start_of_the_next() -> None:
    with use_test_adapter() as adapter:
        ImportJob.perform_later(2)
        with interrupt_job_after_step(ImportJob, "rows"):
            perform_enqueued_jobs()
        assert done == ["download", 0, 1]
        assert adapter.enqueued_jobs[0].payload["continuation"]["completed"] == ["download", "rows"]
        perform_enqueued_jobs()
        assert done == ["download", 0, 1, "report"]


def test_an_interruption_inside_performing_enqueued_jobs_happens_once() -> None:
    with (
        use_test_adapter() as adapter,
        performing_enqueued_jobs(),
        interrupt_job_during_step(ImportJob, "rows"),
    ):
        ImportJob.perform_later(3)  # interrupted at row 0, resumed at once
    assert done == ["download", 0, 1, 2, "report"]
    assert [job.outcome.kind for job in adapter.performed_jobs] == ["resumed", "succeeded"]


def test_an_interruption_that_never_happens_fails_the_test() -> None:
    with use_test_adapter():
        ImportJob.perform_later(2)
        with (
            pytest.raises(AssertionError, match=r"not interrupted in step 'row' at cursor 1"),
            interrupt_job_during_step(ImportJob, "row", cursor=1),
        ):
            perform_enqueued_jobs()


def test_interrupting_needs_a_continuable_class() -> None:
    class Plain(Job):
        def perform(self) -> None: ...

    with use_test_adapter(), pytest.raises(TypeError, match="Continuable job class"):
        interrupt_job_during_step(Plain, "rows").__enter__()  # type: ignore[arg-type]
