"""Log output of a worker process, written by one thread of its own.

Each job logs two lines at the default level (``Performing``, ``Performed``).
Written the usual way (``logging.basicConfig``), every line is formatted, then
written and flushed by the job's own thread, under the handler's lock: a system
call per line, each giving up the GIL, which the job thread then waits to take
back behind the worker's other threads. In a busy worker that cost most of the
throughput (measured: ``bench/run.py``, the ``default log level vs WARNING`` row).

Here the job threads only hand each record over (:class:`~logging.handlers.QueueHandler`,
without formatting it: our messages are final strings and the record's time,
thread and fields are taken when it is made); one writer thread formats what has
arrived and writes it in one call. Lines keep the order in which they were
logged, so a job's lines stay in order. A line logged just before the process
is killed (``kill -9``, ``os._exit``) can be lost with it, as with any buffered
output; :func:`stop` (at exit) writes whatever is still waiting.

Example::

    logsink.start(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
"""

from __future__ import annotations

import atexit
import collections
import logging
import logging.handlers
import os
import re
import sys
import threading
import time
from typing import IO, Any, Protocol

__all__ = ["LogSink", "SecondsFormatter", "start", "stop"]

_sink: LogSink | None = None

CHUNK = 64
"""Lines formatted between two writes (see ``_Writer._write_pending``)."""


class _Deferred(Protocol):
    """A line handed over as values (:class:`activejob.log.deferred.JobLine`)."""

    name: str
    level: int
    created: float
    thread: threading.Thread

    def text(self) -> str: ...

    def record(self) -> logging.LogRecord: ...


class _Records:
    """What the job threads hand over: appending to a deque takes no lock and wakes
    nobody (a blocking queue's ``put`` wakes the writer per record, and with it a
    switch of the GIL between threads that cost more than the line itself)."""

    def __init__(self) -> None:
        self.pending: collections.deque[logging.LogRecord | _Deferred] = collections.deque()
        self.closed = threading.Event()

    def put_nowait(self, record: logging.LogRecord) -> None:
        self.pending.append(record)


class _Handoff(logging.handlers.QueueHandler):
    """Puts the record on the queue as it is: the writer thread formats it.

    ``put_deferred`` takes our per-job lines as values, when this handler is the
    only one that would see them (:func:`activejob.log.records.deferring_handler`
    decides): their record is made by the writer thread, when it writes them.
    """

    def __init__(self, records: _Records) -> None:
        super().__init__(records)  # type: ignore[arg-type]
        self.put_deferred = records.pending.append

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _Writer(threading.Thread):
    def __init__(self, records: _Records, stream: IO[str], formatter: logging.Formatter,
                 interval: float) -> None:  # fmt: skip
        super().__init__(name="activejob-log-writer", daemon=True)
        self.records = records
        self.stream = stream
        self.formatter = formatter
        self.interval = interval

    def run(self) -> None:
        closed = self.records.closed
        while not closed.wait(self.interval):
            self._write_pending()
        self._write_pending()

    def _write_pending(self) -> None:
        pending = self.records.pending
        formatter = self.formatter
        direct = getattr(formatter, "format_deferred", None)
        while pending:
            # A chunk at a time, each written at once: the write gives up the GIL,
            # so job threads whose I/O came back run while a long backlog is being
            # formatted, instead of waiting for all of it (and the servers with them).
            lines = []
            for _ in range(min(len(pending), CHUNK)):
                entry = pending.popleft()
                try:
                    if isinstance(entry, logging.LogRecord):
                        lines.append(formatter.format(entry))
                    elif direct is not None:
                        lines.append(direct(entry))
                    else:
                        lines.append(formatter.format(entry.record()))
                except Exception:  # a record that cannot be formatted costs its line only
                    lines.append(f"(unformattable log record from {entry.name})")
            lines.append("")  # the last line's end
            try:
                self.stream.write("\n".join(lines))
                self.stream.flush()
            except (OSError, ValueError):
                pass  # the stream is gone: nothing is left to tell


class SecondsFormatter(logging.Formatter):
    """A ``logging.Formatter`` that works out the date and time of ``%(asctime)s`` once
    a second, not once a line (the default ``datefmt`` only: ``2026-12-03 08:40:01,123``).

    It also writes the lines our per-job events hand over as values
    (:meth:`format_deferred`) without making their record, unless the format asks
    for more than the message, level, logger name and time.

    Example::

        SecondsFormatter("%(asctime)s %(levelname)s %(message)s")
    """

    _second = -1
    _text = ""
    _names: frozenset[str] | None = None
    """The fields the format names, once known (for :meth:`format_deferred`)."""
    _around: tuple[str, str] | None = None
    """The worker's kind of format, split around its message (see :meth:`_learn`)."""
    _head_second = -1
    _head_msecs = -1.0
    _head_level = -1
    _head_name = ""
    _head = ""
    _tail = ""
    """The text around the message of the last deferred line, for its millisecond and level."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self._asctime(record.created, record.msecs)

    def _asctime(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:  # only the writer thread formats: no lock needed
            self._text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        msec_format = self.default_msec_format or "%s,%03d"
        return msec_format % (self._text, msecs)

    def format_deferred(self, line: _Deferred) -> str:
        """``format(line.record())``, the same text, made without the record when the
        format is a plain ``%`` one: only a field beyond the message, level, logger
        name, time, thread and process makes the record, then read from it.

        Example::

            SecondsFormatter("%(levelname)s %(message)s").format_deferred(line)
        """
        names = self._names
        if names is None:  # the first line: which fields, and is the format logging's own?
            names = self._learn()
        around = self._around
        if around is not None:  # the worker's own format: what is around the message
            created, level, name = line.created, line.level, line.name
            second = int(created)
            msecs = int((created - second) * 1000) + 0.0
            # One head a millisecond, level and logger (a busy worker writes dozens a
            # millisecond, all on one logger).
            if (msecs != self._head_msecs or second != self._head_second
                    or level != self._head_level or name is not self._head_name):  # fmt: skip
                self._head_second, self._head_msecs = second, msecs
                self._head_level, self._head_name = level, name
                values = {"levelname": _level_name(level), "name": name}
                if "asctime" in names:
                    values["asctime"] = self._asctime(created, msecs)
                self._head, self._tail = around[0] % values, around[1] % values
            return self._head + line.text() + self._tail
        if names is _NOT_PLAIN:
            return self.format(line.record())
        values = _LineValues(line, self._style._defaults)  # type: ignore[attr-defined]
        values["message"] = line.text()
        values["levelname"] = logging.getLevelName(line.level)
        values["name"] = line.name
        if names & _CHEAP:
            created = line.created
            msecs = int((created - int(created)) * 1000) + 0.0
            values.update(created=created, msecs=msecs, levelno=line.level, process=_pid())
            thread = line.thread
            values["thread"], values["threadName"] = thread.ident, thread.name
            if "asctime" in names:
                values["asctime"] = self._asctime(created, msecs)
        try:
            return self._fmt % values  # type: ignore[operator]
        except KeyError as missing:  # as logging's PercentStyle says it
            raise ValueError(f"Formatting field not found in record: {missing}") from None

    def _learn(self) -> frozenset[str]:
        """Which fields the format names; for the worker's own kind of format (the
        time, level and logger name around one ``%(message)s``), the two parts of
        it around the message (:attr:`_around`)."""
        plain = type(self) is SecondsFormatter and type(self._style) is logging.PercentStyle
        plain = plain and self.datefmt is None
        names = _names_in(self._fmt) if plain else _NOT_PLAIN
        self._names = names
        if names is not _NOT_PLAIN and "message" in names and names <= _USUAL:
            self._around = _split_at_message(self._fmt or "")
        return names


def _split_at_message(fmt: str) -> tuple[str, str] | None:
    """``fmt`` as the formats before and after its one ``%(message)s``, when
    formatting them apart and joining them with the message gives what ``fmt``
    gives (a ``%%(message)s`` is text, not the field: checked, not parsed)."""
    parts = fmt.split("%(message)s")
    if len(parts) != 2:
        return None
    probe = {"asctime": "2026-12-03 08:40:01,123", "levelname": "INFO", "name": "activejob"}
    try:
        whole = fmt % {**probe, "message": "\x00"}
        apart = parts[0] % probe + "\x00" + parts[1] % probe
    except (KeyError, TypeError, ValueError):
        return None
    return (parts[0], parts[1]) if whole == apart else None


_CHEAP = frozenset({"asctime", "created", "msecs", "levelno", "process", "thread", "threadName"})
"""Fields of a deferred line's record known without making it (beyond the message,
level name and logger name, always set)."""
_USUAL = frozenset({"asctime", "levelname", "name", "message"})
_pid = os.getpid
_level_name = logging.getLevelName
_NOT_PLAIN = frozenset({"(not a plain format)"})


def _names_in(fmt: str | None) -> frozenset[str]:
    return frozenset(re.findall(r"%\((\w+)\)", fmt or ""))


class _LineValues(dict[str, Any]):
    """What a ``%`` format reads of a deferred line: the usual fields set
    beforehand; any other one (``%(process)d``, ``%(job_id)s``) makes the line's
    record, once, and is read from it (then from the formatter's defaults)."""

    __slots__ = ("defaults", "line")

    def __init__(self, line: _Deferred, defaults: dict[str, Any] | None) -> None:
        super().__init__()
        self.line = line
        self.defaults = defaults

    def __missing__(self, key: str) -> Any:
        full = dict(self.defaults or {})
        full.update(self.line.record().__dict__)
        full.update(self)
        self.update(full)
        return full[key]


class LogSink:
    """A handler whose records a thread of its own formats and writes to ``stream``.

    Example::

        sink = LogSink(sys.stderr, logging.Formatter("%(levelname)s %(message)s"))
        logging.getLogger().addHandler(sink.handler)
        ...
        sink.close()  # writes what is still waiting
    """

    def __init__(
        self, stream: IO[str], formatter: logging.Formatter, *, interval: float = 0.02
    ) -> None:
        records = _Records()
        self.handler: logging.Handler = _Handoff(records)
        self._writer = _Writer(records, stream, formatter, interval)
        self._writer.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is still waiting and end the thread; the handler drops what
        comes after."""
        self.handler.close()
        self._writer.records.closed.set()
        self._writer.join(timeout)


def start(level: int, fmt: str, stream: IO[str] | None = None) -> None:
    """Send the root logger's records at ``level`` and above to ``stream`` (stderr)
    through a :class:`LogSink`, formatted with ``fmt``; like ``logging.basicConfig``,
    it does nothing if the root logger has handlers already."""
    global _sink
    root = logging.getLogger()
    if root.handlers or _sink is not None:
        return
    _sink = LogSink(stream or sys.stderr, SecondsFormatter(fmt))
    root.addHandler(_sink.handler)
    root.setLevel(level)
    atexit.register(stop)


def stop() -> None:
    """Write what is still waiting and end the writer thread (done at exit)."""
    global _sink
    sink, _sink = _sink, None
    if sink is not None:
        logging.getLogger().removeHandler(sink.handler)
        sink.close()
