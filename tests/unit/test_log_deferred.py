"""The per-job lines handed to the worker's log sink as values (``activejob.log.deferred``):
written later, on the sink's thread, they must read and carry exactly what a record
made at once would, show the job as it was when the line was logged, keep their
order, and step aside whenever anyone but the sink would see the record."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import activejob
from activejob import Job, before_perform, events
from activejob.adapters.test import TestAdapter
from activejob.job.execution import run
from activejob.log import records
from activejob.log.deferred import JobLine
from activejob.log.text import arguments_text, wire_arguments
from activejob.worker.logsink import LogSink, SecondsFormatter

FORMAT = "%(asctime)s [7] %(levelname)s %(name)s: %(message)s"
"""The worker's own line format (its pid written in)."""
HELD = 3600.0
"""A writer interval long enough that nothing is written before ``close()``."""


class Report(Job):
    queue_as = "reports"
    priority = 3

    def perform(self, items: list[int], *, meta: dict[str, Any]) -> None:
        pass


class Meddling(Job):
    """Changes everything its lines show, once they are logged."""

    queue_as = "first"

    def perform(self, items: list[int], *, meta: dict[str, Any]) -> None:
        items.append(99)
        meta["changed"] = True
        self.queue_name = "second"
        self.priority = 50
        self.provider_job_id = "changed"
        self.executions = 7


class Halting(Job):
    @before_perform
    def stop(self) -> None:
        raise activejob.Abort

    def perform(self) -> None: ...


class Chatty(Job):
    """Logs a line of its own between its Performing and Performed lines."""

    def perform(self, label: str) -> None:
        logging.getLogger("app").info("inside %s", label)


class Keeping(logging.Formatter):
    """A plain ``logging.Formatter`` that keeps every record it formats."""

    def __init__(self, fmt: str = "%(levelname)s %(message)s") -> None:
        super().__init__(fmt)
        self.records: list[logging.LogRecord] = []

    def format(self, record: logging.LogRecord) -> str:
        self.records.append(record)
        return super().format(record)


@contextmanager
def only(*handlers: logging.Handler, level: int = logging.INFO) -> Iterator[None]:
    """The root logger with ``handlers`` and nothing else (pytest's own capture
    handlers set aside), at ``level``."""
    root = logging.getLogger()
    saved, saved_level = root.handlers[:], root.level
    ours = logging.getLogger("activejob")
    saved_ours = ours.level
    root.handlers[:] = list(handlers)
    root.setLevel(level)
    ours.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        root.handlers[:] = saved
        root.setLevel(saved_level)
        ours.setLevel(saved_ours)


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


def _payload(job_class: type[Job], *args: Any, **kwargs: Any) -> dict[str, Any]:
    job = job_class.perform_later(*args, **kwargs)
    payload = job.serialize()
    payload["provider_job_id"] = "p-1"
    return payload


def _held_sink(formatter: logging.Formatter) -> tuple[LogSink, io.StringIO]:
    out = io.StringIO()
    return LogSink(out, formatter, interval=HELD), out


def test_with_the_sink_alone_the_job_lines_are_handed_over_as_values(adapter: TestAdapter) -> None:
    """The job's thread makes no record and no text: the sink's queue holds lines."""
    payload = _payload(Report, [1, 2], meta={"a": "é"})
    sink, out = _held_sink(SecondsFormatter(FORMAT))
    with only(sink.handler):
        run(payload, adapter=adapter)
        pending = list(sink._writer.records.pending)
    sink.close()
    assert [type(p).__name__ for p in pending] == ["Performing", "Performed"]
    assert all(isinstance(p, JobLine) for p in pending)
    written = out.getvalue().splitlines()
    assert len(written) == 2
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[7\] INFO activejob: Performing "
        r"tests\.unit\.test_log_deferred\.Report \(Job ID: [0-9a-f-]{36}\) from test\(reports\) "
        r"enqueued at \S+ with arguments: \[1, 2\], meta=\{\"a\": \"é\"\}",
        written[0],
    ), written[0]
    assert re.fullmatch(r".* INFO activejob: Performed .* from test\(reports\) in \d+\.\d\dms",
                        written[1])  # fmt: skip


def test_a_deferred_record_is_the_one_logging_makes_at_the_event(adapter: TestAdapter) -> None:
    """Message, fields, level, thread: as ``makeRecord`` with the fields of the event,
    worked out when the event happened (the generic ``records.fields``)."""
    expected: list[tuple[str, dict[str, Any]]] = []

    def at_event(event: events.Event) -> None:
        job = event.job
        assert job is not None
        wire = wire_arguments(job) if event.name == "perform_start" else None
        where = f"test({job.queue_name})"
        if event.name == "perform_start":
            assert job.enqueued_at is not None
            text = (f"Performing {job.job_class_name} (Job ID: {job.job_id}) from {where} "
                    f"enqueued at {job.enqueued_at.isoformat()}{arguments_text(wire)}")  # fmt: skip
        else:
            duration = f"{(event.duration or 0) * 1000:.2f}ms"
            text = f"Performed {job.job_class_name} (Job ID: {job.job_id}) from {where}"
            text += f" in {duration}"
            text += ", halted by a before_perform callback" if event.extra.get("halted") else ""
        expected.append((text, records.fields(event, wire, {})))

    payloads = [_payload(Report, [3], meta={"k": [1, None]}), _payload(Halting)]
    keeping = Keeping()
    sink, _ = _held_sink(keeping)
    events.subscribe("perform_start", at_event)
    events.subscribe("perform", at_event)
    try:
        with only(sink.handler):
            for payload in payloads:
                run(payload, adapter=adapter)
    finally:
        events.unsubscribe("perform_start", at_event)
        events.unsubscribe("perform", at_event)
    sink.close()

    assert len(keeping.records) == len(expected) == 4
    model = logging.getLogger("activejob").makeRecord(
        "activejob", logging.INFO, records.__file__, 0, "%s", ("",), None, "_log"
    )
    for record, (text, fields) in zip(keeping.records, expected, strict=True):
        assert type(record) is logging.LogRecord
        assert record.getMessage() == text
        assert set(record.__dict__) == set(model.__dict__) | set(fields) | {"message"}
        assert {k: record.__dict__[k] for k in fields} == fields
        assert (record.levelno, record.levelname) == (logging.INFO, "INFO")
        assert record.name == "activejob"
        assert (record.thread, record.threadName) == (threading.get_ident(), "MainThread")
        assert (record.exc_info, record.process) == (None, model.process)


def test_a_line_shows_the_job_as_it_was_when_it_was_logged(adapter: TestAdapter) -> None:
    """Written after the job changed its arguments and fields: each line shows them as
    they were at its own event (the Performing line before ``perform`` ran, the
    Performed line after)."""
    payload = _payload(Meddling, [1], meta={"changed": False})
    keeping = Keeping()
    sink, _ = _held_sink(keeping)
    with only(sink.handler):
        run(payload, adapter=adapter)
    sink.close()  # only now are the lines made into records and written
    start, done = keeping.records
    assert start.getMessage().endswith(' with arguments: [1], meta={"changed": false}')
    assert (start.__dict__["job_arguments"], start.__dict__["job_kwargs"]) == (
        [[1]], {"meta": {"changed": False}}
    )  # fmt: skip
    shown = [(" from test(first)", "first", None, 1, "p-1"),
             (" from test(second)", "second", 50, 7, "changed")]  # fmt: skip
    for record, (where, queue, priority, executions, provider_id) in zip(
        (start, done), shown, strict=True
    ):
        assert where in record.getMessage()
        fields = record.__dict__
        assert (fields["queue_name"], fields["priority"]) == (queue, priority)
        assert (fields["executions"], fields["provider_job_id"]) == (executions, provider_id)


@pytest.mark.parametrize(
    "fmt",
    [
        FORMAT,
        "%(message)s",
        "%(levelname)-8s %(name)s %(message)s",
        "%(asctime)s %(created)f %(msecs)03d %(levelno)d %(process)d %(message)s",
        "%(threadName)s %(thread)d %(message)s",
        "%(message)s job=%(job_id)s queue=%(queue_name)s %(module)s %(funcName)s",
        "[%(levelname)s] %(message)s (%(name)s at %(asctime)s)",
        "100%%(message)s %(message)s",
        "%(message)s %(message)s",
    ],
)
def test_the_sinks_formatter_writes_a_line_as_logging_writes_its_record(
    adapter: TestAdapter, fmt: str
) -> None:
    payload = _payload(Report, [5], meta={})
    sink, _ = _held_sink(Keeping())
    with only(sink.handler):
        run(payload, adapter=adapter)
        lines = list(sink._writer.records.pending)
    sink.close()
    ours = SecondsFormatter(fmt)
    for line in lines:
        assert ours.format_deferred(line) == logging.Formatter(fmt).format(line.record())


def test_each_line_gets_the_time_and_level_of_its_own(adapter: TestAdapter) -> None:
    """The text around the message is made once a millisecond and level: lines of
    the same millisecond share it, a line of another millisecond or level does not."""
    payload = _payload(Report, [5], meta={})
    sink, _ = _held_sink(Keeping())
    with only(sink.handler, level=logging.DEBUG):
        run(payload, adapter=adapter)
        with activejob.log.job_lines_at(logging.DEBUG):
            run(payload, adapter=adapter)
        lines = list(sink._writer.records.pending)
    sink.close()
    start = lines[0].created
    moments = [start, start, start + 0.0004, start + 0.001, start + 1.0, start - 5.0]
    ours, theirs = SecondsFormatter(FORMAT), logging.Formatter(FORMAT)
    for line in lines:
        for created in moments:
            moved = type(line)((line[0], created, *line[2:]))
            assert ours.format_deferred(moved) == theirs.format(moved.record())


def test_a_format_that_is_not_a_plain_percent_one_gets_the_record(adapter: TestAdapter) -> None:
    payload = _payload(Report, [5], meta={})
    sink, _ = _held_sink(Keeping())
    with only(sink.handler):
        run(payload, adapter=adapter)
        lines = list(sink._writer.records.pending)
    sink.close()
    braces = SecondsFormatter("{levelname} {job_id} {message}", style="{")
    dated = SecondsFormatter("%(asctime)s %(message)s", datefmt="%H:%M")
    defaults = SecondsFormatter("%(message)s %(extra_field)s", defaults={"extra_field": "dflt"})
    for line in lines:
        record = line.record()
        assert braces.format_deferred(line) == braces.format(record)
        assert dated.format_deferred(line) == logging.Formatter(
            "%(asctime)s %(message)s", datefmt="%H:%M"
        ).format(record)
        assert defaults.format_deferred(line).endswith(" dflt")


@pytest.mark.parametrize("where", ["root handler", "activejob handler", "sink filter", "factory"])
def test_anyone_else_who_would_see_the_record_gets_it_complete_at_once(
    adapter: TestAdapter, where: str
) -> None:
    """Another handler, a handler on our logger, a filter on the sink's handler, an
    application's record factory: each sees a complete record while the job runs,
    and the sink writes the same line."""
    seen: list[tuple[str, Any]] = []

    class Seeing(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.getMessage(), record.__dict__.get("job_id")))

    def filtering(record: logging.LogRecord) -> bool:
        seen.append((record.getMessage(), record.__dict__.get("job_id")))
        return True

    payload = _payload(Report, [8], meta={})  # its Enqueued line before anything is set up
    sink, out = _held_sink(SecondsFormatter("%(message)s"))
    handlers: list[logging.Handler] = [sink.handler]
    ours = logging.getLogger("activejob")
    extra = Seeing()
    default = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = default(*args, **kwargs)
        seen.append((made.getMessage(), "factory"))
        return made

    if where == "root handler":
        handlers.append(extra)
    elif where == "activejob handler":
        ours.addHandler(extra)
    elif where == "sink filter":
        sink.handler.addFilter(filtering)
    else:
        logging.setLogRecordFactory(factory)
    try:
        with only(*handlers):
            run(payload, adapter=adapter)
            pending = list(sink._writer.records.pending)
    finally:
        ours.removeHandler(extra)
        sink.handler.removeFilter(filtering)
        logging.setLogRecordFactory(default)
    sink.close()
    assert all(isinstance(p, logging.LogRecord) for p in pending) and len(pending) == 2
    # Only our job's lines: the logger, the handler and the factory also see others.
    ours_seen = [(m, j) for m, j in seen if payload["job_id"] in m]
    messages = [m for m, _ in ours_seen]
    assert len(messages) == 2, seen
    assert messages[0].startswith("Performing ") and messages[1].startswith("Performed ")
    assert out.getvalue().splitlines() == messages
    if where != "factory":
        assert [j for _, j in ours_seen] == [payload["job_id"]] * 2


def test_lines_below_the_sinks_level_are_not_handed_over(adapter: TestAdapter) -> None:
    sink, out = _held_sink(SecondsFormatter("%(message)s"))
    sink.handler.setLevel(logging.WARNING)
    payload = _payload(Report, [8], meta={})
    with only(sink.handler):
        run(payload, adapter=adapter)
        assert not sink._writer.records.pending
    sink.close()
    assert out.getvalue() == ""


def test_each_jobs_lines_keep_their_order_among_other_lines(adapter: TestAdapter) -> None:
    """Deferred lines and ordinary records share one queue: a job's own line sits
    between its Performing and Performed lines."""
    sink, out = _held_sink(SecondsFormatter("%(threadName)s %(message)s"))
    payloads = {f"t{n}": [_payload(Chatty, f"t{n}-{i}") for i in range(50)] for n in range(4)}

    def work(mine: list[dict[str, Any]]) -> None:
        for payload in mine:
            run(payload, adapter=adapter)

    threads = [threading.Thread(target=work, args=(p,), name=n) for n, p in payloads.items()]
    with only(sink.handler):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sink.close()
    written = out.getvalue().splitlines()
    assert len(written) == 4 * 50 * 3
    for name in payloads:
        mine = [line.split(" ", 1)[1] for line in written if line.startswith(f"{name} ")]
        for i in range(50):
            start, inside, done = mine[3 * i : 3 * i + 3]
            assert start.startswith("Performing ") and f'"{name}-{i}"' in start
            assert inside == f"inside {name}-{i}"
            assert done.startswith("Performed ") and start.split(" from ")[0][11:] in done
