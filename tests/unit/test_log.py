"""Log lines: one per event under the ``activejob`` logger, with structured fields,
and ``log_arguments = False`` keeping arguments out."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import activejob
from activejob import (
    Abort,
    Job,
    before_enqueue,
    before_perform,
    discard_on,
    events,
    job,
    log,
    retry_on,
)
from activejob._time import iso_time
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.test import TestAdapter
from activejob.job.execution import run
from tests.support import RecordingAdapter

FIELDS = {"activejob_event", "job_class", "job_id", "queue_name", "priority", "executions"}


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


class Report(Job):
    queue_as = "reports"
    priority = 3

    def perform(self, *args: Any, **kwargs: Any) -> None: ...


class Secret(Job):
    log_arguments = False

    def perform(self, password: str) -> None: ...


@job(log_arguments=False)
def secret_function(token: str) -> None: ...


class Vetoed(Job):
    @before_enqueue
    def veto(self) -> None:
        raise Abort

    def perform(self) -> None: ...


class Halting(Job):
    @before_perform
    def stop(self) -> None:
        raise Abort

    def perform(self) -> None: ...


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


class Interrupted(Job):
    def perform(self) -> None:
        raise KeyboardInterrupt("stop")


class FirstOnlyAdapter(RecordingAdapter):
    """Takes the first job of a bulk enqueue and refuses the rest (as a backend
    with unique jobs would)."""

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        self.calls.append(("enqueue_all", [j.job_id for j in jobs[:1]]))
        for index, j in enumerate(jobs):
            j.successfully_enqueued = index == 0
        return 1


DURATION = r"in \d+\.\d\dms"


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="activejob"):
        yield caplog


def lines(logs: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in logs.records if getattr(r, "activejob_event", None) == event]


def test_arguments_text_of_nested_values(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    Report.perform_later(1, [2, [3]], {"a": "é", "b": None}, "", flag=True)
    (record,) = lines(logs, "enqueue")
    assert record.getMessage().endswith(
        'with arguments: 1, [2, [3]], {"a": "é", "b": null}, "", flag=true'
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 3, 8, 40, 1, 5, tzinfo=timezone.utc),
        datetime(2026, 12, 3, 8, 40, 1, tzinfo=timezone.utc),
        datetime(2026, 12, 3, 8, 40, 1, 999999, tzinfo=timezone.utc),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime.min.replace(tzinfo=timezone.utc),
        datetime.max.replace(tzinfo=timezone.utc),
        datetime(2026, 12, 3, 8, 40, 1, 5),
        datetime(2026, 12, 3, 8, 40, 1, 5, tzinfo=timezone(timedelta(hours=-3))),
    ],
)
def test_iso_time_is_isoformat(moment: datetime) -> None:
    assert iso_time(moment) == moment.isoformat()
    assert iso_time(moment) == moment.isoformat()  # its second's text remembered


def test_installed_by_default() -> None:
    assert log.installed()


def test_enqueued_line(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    enqueued = Report.perform_later(42, "x", depth=2)
    (record,) = lines(logs, "enqueue")
    assert record.name == "activejob" and record.levelno == logging.INFO
    assert record.getMessage() == (
        f"Enqueued tests.unit.test_log.Report (Job ID: {enqueued.job_id}) to test(reports) "
        'with arguments: 42, "x", depth=2'
    )
    fields = record.__dict__
    assert set(fields) >= FIELDS
    assert fields["job_id"] == enqueued.job_id and fields["queue_name"] == "reports"
    assert fields["priority"] == 3 and fields["adapter"] == "test"
    assert fields["job_arguments"] == [42, "x"] and fields["job_kwargs"] == {"depth": 2}
    assert isinstance(fields["duration_ms"], float)


def test_scheduled_enqueued_line(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    enqueued = Report.set(wait=60).perform_later()
    (record,) = lines(logs, "enqueue_at")
    assert enqueued.scheduled_at is not None
    assert record.getMessage().endswith(f"to test(reports) at {enqueued.scheduled_at.isoformat()}")
    assert record.__dict__["scheduled_at"] == enqueued.scheduled_at.isoformat()


def test_failed_and_aborted_enqueue_lines(logs: pytest.LogCaptureFixture) -> None:
    activejob.configure(adapter=RecordingAdapter(error=OSError("disk full")))
    with pytest.raises(activejob.EnqueueError):
        Report.perform_later(1)
    (failed,) = lines(logs, "enqueue")
    assert failed.levelno == logging.ERROR
    assert failed.getMessage().startswith(
        "Failed enqueuing tests.unit.test_log.Report to recording(reports): "
        "activejob.errors.EnqueueError (recording adapter could not enqueue"
    )
    assert failed.__dict__["exception_class"] == "activejob.errors.EnqueueError"
    activejob.configure(adapter=TestAdapter())
    Vetoed.perform_later()
    aborted = lines(logs, "enqueue")[1]
    assert aborted.levelno == logging.INFO
    assert aborted.getMessage() == (
        "Failed enqueuing tests.unit.test_log.Vetoed to test(default), "
        "a before_enqueue callback halted the enqueuing execution."
    )


def test_bulk_enqueued_line(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    activejob.perform_all_later([Report(1), Report(2), Vetoed()])
    (record,) = lines(logs, "enqueue_all")
    assert record.getMessage() == (
        "Enqueued 3 jobs to test (2 tests.unit.test_log.Report, 1 tests.unit.test_log.Vetoed)"
    )
    assert record.__dict__["enqueued_count"] == 3 and record.__dict__["adapter"] == "test"


def test_failed_bulk_enqueue_line(logs: pytest.LogCaptureFixture) -> None:
    activejob.configure(adapter=RecordingAdapter(error=OSError("down")))
    with pytest.raises(activejob.EnqueueError):
        activejob.perform_all_later([Report(1), Report(2)])
    (record,) = lines(logs, "enqueue_all")
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "Failed enqueuing 2 jobs to recording: activejob.errors.EnqueueError "
        "(recording adapter could not enqueue 2 jobs: down)"
    )
    assert record.__dict__["jobs_count"] == 2 and "enqueued_count" not in record.__dict__
    assert record.__dict__["exception_class"] == "activejob.errors.EnqueueError"


def test_partly_failed_bulk_enqueue_line(logs: pytest.LogCaptureFixture) -> None:
    activejob.configure(adapter=FirstOnlyAdapter())
    assert activejob.perform_all_later([Report(1), Report(2), Secret("pw")]) == 1
    (record,) = lines(logs, "enqueue_all")
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        "Enqueued 1 job to recording (1 tests.unit.test_log.Report); failed enqueuing 2"
    )
    assert record.__dict__["jobs_count"] == 3 and record.__dict__["enqueued_count"] == 1


def test_performing_and_performed_lines(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    enqueued = Report.perform_later(7)
    adapter.perform_enqueued_jobs()
    (start,) = lines(logs, "perform_start")
    assert enqueued.enqueued_at is not None
    assert start.getMessage() == (
        f"Performing tests.unit.test_log.Report (Job ID: {enqueued.job_id}) from test(reports) "
        f"enqueued at {enqueued.enqueued_at.isoformat()} with arguments: 7"
    )
    (done,) = lines(logs, "perform")
    assert done.levelno == logging.INFO
    assert re.fullmatch(
        rf"Performed tests\.unit\.test_log\.Report \(Job ID: {enqueued.job_id}\) "
        r"from test\(reports\) in \d+\.\d\dms",
        done.getMessage(),
    )
    assert done.__dict__["outcome"] == "succeeded" and done.__dict__["executions"] == 1
    assert done.__dict__["duration_ms"] >= 0
    assert start.__dict__["job_arguments"] == [7] and "job_arguments" not in done.__dict__


def test_below_info_an_enqueue_makes_no_event(
    adapter: TestAdapter, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The log lines are the only subscribers here; they say (events.subscribe's
    # `when`) whether they would log, so at WARNING an enqueue builds no Event.
    made: list[str] = []

    class Counted(events.Event):
        def __init__(self, name: str, *args: Any) -> None:
            made.append(name)
            super().__init__(name, *args)

    monkeypatch.setattr(events, "Event", Counted)
    with caplog.at_level(logging.WARNING, logger="activejob"):
        Report.perform_later(1)
        Report.set(wait=60).perform_later(2)
        assert made == []
        activejob.configure(adapter=RecordingAdapter(error=OSError("disk full")))
        with pytest.raises(activejob.EnqueueError):
            Report.perform_later(3)  # a failure still makes its event, and its line
    assert made == ["enqueue"]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "Failed enqueuing tests.unit.test_log.Report to recording(reports)"
    ]
    made.clear()
    activejob.configure(adapter=adapter)
    with caplog.at_level(logging.INFO, logger="activejob"):
        Report.perform_later(4)
        Report.set(wait=60).perform_later(5)
    assert made == ["enqueue", "enqueue_at"]


def test_performed_line_without_a_known_adapter(logs: pytest.LogCaptureFixture) -> None:
    run(Halting())
    (done,) = lines(logs, "perform")
    assert " from queue default in " in done.getMessage()
    assert done.getMessage().endswith("ms, halted by a before_perform callback")
    assert "adapter" not in done.__dict__


def test_error_performing_line(logs: pytest.LogCaptureFixture) -> None:
    run(Broken())
    (done,) = lines(logs, "perform")
    assert done.levelno == logging.ERROR and done.exc_info is not None
    pattern = r"^Error performing .*Broken .* in \d+\.\d\dms: LookupError \(boom\)$"
    assert re.search(pattern, done.getMessage())
    assert (
        done.__dict__["outcome"] == "failed" and done.__dict__["exception_class"] == "LookupError"
    )


def test_interrupted_performing_line(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    enqueued = Interrupted.perform_later()
    with pytest.raises(KeyboardInterrupt):
        adapter.perform_enqueued_jobs()
    (done,) = lines(logs, "perform")
    assert done.levelno == logging.WARNING
    assert re.fullmatch(
        re.escape(
            f"Interrupted performing tests.unit.test_log.Interrupted (Job ID: {enqueued.job_id})"
        )
        + rf" from test\(default\) {DURATION}: KeyboardInterrupt \(stop\)",
        done.getMessage(),
    )
    assert done.__dict__["outcome"] == "interrupted"
    assert done.__dict__["exception_class"] == "KeyboardInterrupt"


def test_error_performing_line_of_a_discarded_job_is_info(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    enqueued = Discarded.perform_later()
    adapter.perform_enqueued_jobs()
    (done,) = lines(logs, "perform")
    assert done.levelno == logging.INFO and done.exc_info is not None
    assert re.fullmatch(
        re.escape(f"Error performing tests.unit.test_log.Discarded (Job ID: {enqueued.job_id})")
        + rf" from test\(default\) {DURATION}: tests\.unit\.test_log\.Fatal \(drop\)",
        done.getMessage(),
    )
    assert done.__dict__["outcome"] == "discarded"
    assert done.__dict__["exception_class"] == "tests.unit.test_log.Fatal"


def test_retrying_and_stopped_retrying_lines(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    adapter.perform_enqueued = True
    with pytest.raises(Flaky):
        Retried.perform_later()
    first, last = lines(logs, "perform")
    assert first.levelno == logging.INFO and first.__dict__["outcome"] == "retry"
    assert first.exc_info is not None
    assert last.levelno == logging.ERROR and last.__dict__["outcome"] == "failed"
    (retrying,) = lines(logs, "enqueue_retry")
    job_id = retrying.__dict__["job_id"]
    assert retrying.levelno == logging.INFO
    assert retrying.getMessage() == (
        f"Retrying tests.unit.test_log.Retried (Job ID: {job_id}) after 1 attempt in 0 seconds, "
        "due to tests.unit.test_log.Flaky (again)."
    )
    assert retrying.__dict__["wait"] == 0.0
    (stopped,) = lines(logs, "retry_stopped")
    assert stopped.levelno == logging.ERROR
    assert stopped.getMessage() == (
        f"Stopped retrying tests.unit.test_log.Retried (Job ID: {job_id}) due to "
        "tests.unit.test_log.Flaky (again), which reoccurred on 2 attempts."
    )


def test_discarded_line(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    enqueued = Discarded.perform_later()
    adapter.perform_enqueued_jobs()
    (discarded,) = lines(logs, "discard")
    assert discarded.levelno == logging.WARNING
    assert discarded.getMessage() == (
        f"Discarded tests.unit.test_log.Discarded (Job ID: {enqueued.job_id}) due to "
        "tests.unit.test_log.Fatal (drop)."
    )
    assert discarded.__dict__["reason"] == "discard_on"


def test_log_arguments_false_keeps_arguments_out(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    Secret.perform_later("hunter2")
    secret_function.perform_later("tok-123")
    adapter.perform_enqueued_jobs()
    mine = [
        r
        for r in logs.records
        if r.__dict__.get("job_class", "").startswith("tests.unit.test_log.")
    ]
    assert {r.__dict__["activejob_event"] for r in mine} == {"enqueue", "perform_start", "perform"}
    for record in mine:
        assert "hunter2" not in record.getMessage() and "tok-123" not in record.getMessage()
        assert "with arguments" not in record.getMessage()
        assert "job_arguments" not in record.__dict__ and "job_kwargs" not in record.__dict__


def test_structured_fields_are_json_ready(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    Report.perform_later({"nested": [1, 2]}, when=(1, 2))
    adapter.perform_enqueued_jobs()
    baseline = set(logging.makeLogRecord({}).__dict__)
    for record in logs.records:
        extra = {k: v for k, v in record.__dict__.items() if k not in baseline}
        json.dumps(extra)


def test_perform_now_with_arguments_json_cannot_hold(logs: pytest.LogCaptureFixture) -> None:
    class Local(Job):
        def perform(self, thing: object) -> None: ...

    Local.perform_now(Ellipsis)
    (start,) = lines(logs, "perform_start")
    assert start.getMessage().endswith('with arguments: "Ellipsis"')


def test_uninstall_and_install(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    log.uninstall()
    try:
        assert not log.installed()
        Report.perform_later(1)
        assert lines(logs, "enqueue") == []
    finally:
        log.install()
        log.install()  # twice changes nothing
    Report.perform_later(2)
    assert len(lines(logs, "enqueue")) == 1


def test_logger_level_controls_the_lines(
    adapter: TestAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="activejob"):
        Report.perform_later(1)
        run(Broken())
    assert [r.__dict__["activejob_event"] for r in caplog.records] == ["perform"]


def test_disabled_lines_cost_no_argument_serialisation(
    adapter: TestAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    class Counted(Job):
        def perform(self, n: int) -> None: ...

        def serialized_arguments(self) -> tuple[list[Any], dict[str, Any]]:
            calls.append(1)
            return super().serialized_arguments()

    with caplog.at_level(logging.WARNING, logger="activejob"):
        Counted.perform_later(1)
    assert len(calls) == 1  # the payload only
    with caplog.at_level(logging.INFO, logger="activejob"):
        Counted.perform_later(2)
    assert len(calls) == 3  # then the payload, and once for the log line


# -- the async: adapter's lines ---------------------------------------------------------------

started = threading.Event()


class Announced(Job):
    def perform(self) -> None:
        started.set()


class AsyncAnnounced(Job):
    async def perform(self) -> None:
        started.set()


@pytest.fixture
def async_adapter() -> Iterator[AsyncAdapter]:
    pool = AsyncAdapter(threads=2)
    activejob.configure(adapter=pool)
    yield pool
    pool.shutdown()


@pytest.fixture
def slow_enqueue_lines() -> Iterator[None]:
    """Runs before the log line of each enqueue event, and waits: were the job
    already started, the pool would run it meanwhile and log "Performing" first."""

    def wait_a_little(event: events.Event) -> None:
        started.wait(0.5)  # sleep-ok: waits for a start that must not happen yet

    names = ("enqueue", "enqueue_at", "enqueue_all")
    for name in names:
        events.subscribe(name, wait_a_little)
    log.install()  # again, so that its handlers come after ours
    started.clear()
    yield
    for name in names:
        events.unsubscribe(name, wait_a_little)


def _enqueue_and_perform_order(logs: pytest.LogCaptureFixture) -> list[str]:
    names = ("enqueue", "enqueue_at", "enqueue_all", "perform_start")
    return [
        r.__dict__["activejob_event"]
        for r in logs.records
        if r.__dict__.get("activejob_event") in names
    ]


@pytest.mark.parametrize(
    ("enqueue", "line"),
    [
        (lambda: Announced.perform_later(), "enqueue"),
        (lambda: AsyncAnnounced.perform_later(), "enqueue"),
        (lambda: Announced.set(wait=0).perform_later(), "enqueue_at"),
    ],
    ids=["sync", "async-def", "scheduled-now"],
)
@pytest.mark.usefixtures("slow_enqueue_lines")
def test_on_async_the_enqueue_line_comes_before_the_perform_line(
    async_adapter: AsyncAdapter, logs: pytest.LogCaptureFixture, enqueue: Any, line: str
) -> None:
    enqueue()
    async_adapter.join(timeout=10)
    assert started.is_set()
    assert _enqueue_and_perform_order(logs) == [line, "perform_start"]


@pytest.mark.usefixtures("slow_enqueue_lines")
def test_on_async_a_bulk_enqueue_line_comes_before_the_perform_lines(
    async_adapter: AsyncAdapter, logs: pytest.LogCaptureFixture
) -> None:
    activejob.perform_all_later([Announced(), AsyncAnnounced(), Announced()])
    async_adapter.join(timeout=10)
    assert _enqueue_and_perform_order(logs) == ["enqueue_all"] + ["perform_start"] * 3


def test_a_failed_async_job_logs_its_traceback_once(
    async_adapter: AsyncAdapter, logs: pytest.LogCaptureFixture
) -> None:
    Broken.perform_later()
    async_adapter.join(timeout=10)
    with_traceback = [r for r in logs.records if r.exc_info]
    assert len(with_traceback) == 1, [r.getMessage() for r in with_traceback]
    (line,) = with_traceback
    assert line.levelno == logging.ERROR and line.getMessage().startswith("Error performing")
    assert "LookupError (boom)" in line.getMessage()


def test_a_failed_async_job_is_still_logged_with_the_job_lines_off(
    async_adapter: AsyncAdapter, logs: pytest.LogCaptureFixture
) -> None:
    log.uninstall()
    try:
        job = Broken.perform_later()
        async_adapter.join(timeout=10)
    finally:
        log.install()
    (line,) = [r for r in logs.records if r.exc_info]
    assert line.getMessage() == f"async job {job.job_id} failed: LookupError('boom')"


@discard_on(activejob.DeserializationError)
class Unloadable(Job):
    def perform(self, record: Any) -> None: ...


def test_no_line_says_a_activejob(adapter: TestAdapter, logs: pytest.LogCaptureFixture) -> None:
    Unloadable.perform_later(1)
    adapter.enqueued_jobs[0].payload["arguments"] = [{"_aj": "gone", "v": 1}]
    adapter.perform_enqueued_jobs()
    (discarded,) = lines(logs, "discard")
    assert " due to activejob.errors.DeserializationError (" in discarded.getMessage()
    assert all(" a activejob" not in r.getMessage() for r in logs.records)


def test_job_lines_at_moves_the_performing_lines_only(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    ok = Report.perform_later(1)
    with log.job_lines_at(logging.DEBUG):
        adapter.perform_enqueued_jobs()
    assert ok.job_id and not lines(logs, "perform_start") and not lines(logs, "perform")
    logs.set_level(logging.DEBUG, logger="activejob")
    Report.perform_later(2)
    with log.job_lines_at(logging.DEBUG):
        adapter.perform_enqueued_jobs()
    assert [r.levelno for r in lines(logs, "perform_start") + lines(logs, "perform")] == [
        logging.DEBUG,
        logging.DEBUG,
    ]
    logs.clear()
    Report.perform_later(3)
    adapter.perform_enqueued_jobs()  # outside the block: INFO again
    assert [r.levelno for r in lines(logs, "perform_start") + lines(logs, "perform")] == [
        logging.INFO,
        logging.INFO,
    ]


def test_job_lines_at_keeps_a_failure_at_error(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    class Broken(Job):
        def perform(self) -> None:
            raise Fatal("no")

    Broken.perform_later()
    with log.job_lines_at(logging.DEBUG), pytest.raises(Fatal):
        adapter.perform_enqueued_jobs()
    (failed,) = lines(logs, "perform")
    assert failed.levelno == logging.ERROR and not lines(logs, "perform_start")


def test_the_job_lines_at_example_in_the_docs_runs(
    adapter: TestAdapter, logs: pytest.LogCaptureFixture
) -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "observability.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "job_lines_at" in b]
    payload = Report(5).serialize()
    exec(block, {"activejob": activejob, "logging": logging, "payload": payload})
    assert not lines(logs, "perform_start") and not lines(logs, "perform")


# -- how records are made -----------------------------------------------------------------


def test_our_quick_records_carry_what_make_record_would() -> None:
    """The per-process template must not freeze what changes per line (thread, time,
    level, message, fields), and must leave nothing out that handlers read."""
    from activejob.log import records

    fields = {"job_id": "j1", "activejob_event": "perform"}
    made = records.logger.makeRecord(
        records.logger.name, logging.INFO, records.__file__, 0, "%s", ("hello",), None, "_log",
        fields,
    )  # fmt: skip
    seen: list[logging.LogRecord] = []

    def other_thread() -> None:
        seen.append(records.quick_record(logging.WARNING, "bye", None, {"job_id": "j2"}))

    quick = records.quick_record(logging.INFO, "hello", None, fields)
    thread = threading.Thread(target=other_thread, name="elsewhere")
    thread.start()
    thread.join()
    assert set(quick.__dict__) == set(made.__dict__)
    for key in ("name", "pathname", "filename", "module", "funcName", "process", "processName",
                "levelname", "levelno", "job_id", "threadName", "thread"):  # fmt: skip
        assert getattr(quick, key) == getattr(made, key), key
    assert quick.getMessage() == "hello" and abs(quick.created - made.created) < 5
    later = seen[0]
    assert (later.threadName, later.levelname, later.getMessage(), later.job_id) == (
        "elsewhere", "WARNING", "bye", "j2"
    )  # fmt: skip
    assert not hasattr(later, "activejob_event")  # no field leaks from the line before


def test_an_application_record_factory_makes_every_record(caplog: pytest.LogCaptureFixture) -> None:
    """A factory adding trace ids (OpenTelemetry's logging instrumentation does) must
    see our lines too: the quick path steps aside for it."""
    default = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = default(*args, **kwargs)
        record.trace_id = "abc123"
        return record

    logging.setLogRecordFactory(factory)
    try:
        with caplog.at_level(logging.INFO, logger="activejob"):
            activejob.configure(adapter="inline:")
            Report.perform_later(42)
    finally:
        logging.setLogRecordFactory(default)
    lines = [r for r in caplog.records if r.name == "activejob"]
    assert lines and all(getattr(r, "trace_id", None) == "abc123" for r in lines)


def test_the_sinks_formatter_writes_the_time_as_logging_does() -> None:
    from activejob.worker.logsink import SecondsFormatter

    fmt = "%(asctime)s %(levelname)s %(message)s"
    ours, theirs = SecondsFormatter(fmt), logging.Formatter(fmt)
    for created in (1_700_000_000.0015, 1_700_000_000.999, 1_700_000_001.25, 1_700_000_000.5):
        msecs = int((created - int(created)) * 1000) + 0.0
        record = logging.makeLogRecord(
            {"msg": "x", "levelname": "INFO", "created": created, "msecs": msecs}
        )
        assert ours.format(record) == theirs.format(record)


def test_a_forked_child_logs_with_its_own_pid() -> None:
    import os

    from activejob.log import records

    assert records.quick_record(logging.INFO, "parent", None, {}).process == os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the pid its record carries, then leave at once
        record = records.quick_record(logging.INFO, "child", None, {})
        os.write(write, f"{record.process} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    carried, actual = os.read(read, 100).decode().split()
    os.close(read)
    assert carried == actual == str(pid)
