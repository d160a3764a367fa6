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
import sys
import threading
import time
from typing import IO

__all__ = ["LogSink", "SecondsFormatter", "start", "stop"]

_sink: LogSink | None = None


class _Records:
    """What the job threads hand over: appending to a deque takes no lock and wakes
    nobody (a blocking queue's ``put`` wakes the writer per record, and with it a
    switch of the GIL between threads that cost more than the line itself)."""

    def __init__(self) -> None:
        self.pending: collections.deque[logging.LogRecord] = collections.deque()
        self.closed = threading.Event()

    def put_nowait(self, record: logging.LogRecord) -> None:
        self.pending.append(record)


class _Handoff(logging.handlers.QueueHandler):
    """Puts the record on the queue as it is: the writer thread formats it."""

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
        lines = []
        while pending:
            record = pending.popleft()
            try:
                lines.append(self.formatter.format(record) + "\n")
            except Exception:  # a record that cannot be formatted costs its line only
                lines.append(f"(unformattable log record from {record.name})\n")
        if lines:
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except (OSError, ValueError):
                pass  # the stream is gone: nothing is left to tell


class SecondsFormatter(logging.Formatter):
    """A ``logging.Formatter`` that works out the date and time of ``%(asctime)s`` once
    a second, not once a line (the default ``datefmt`` only: ``2026-12-03 08:40:01,123``).

    Example::

        SecondsFormatter("%(asctime)s %(levelname)s %(message)s")
    """

    _second = -1
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:  # only the writer thread formats: no lock needed
            self._text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        msec_format = self.default_msec_format or "%s,%03d"
        return msec_format % (self._text, record.msecs)


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
        self.handler: logging.Handler = _Handoff(records)  # type: ignore[arg-type]
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
