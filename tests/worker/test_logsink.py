"""A worker process's log lines go out through one writer thread: every line
arrives, in the order it was logged, with its exception, and nothing waits in
the queue once the sink is closed."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import threading
from pathlib import Path

from activejob.worker.logsink import LogSink
from tests.worker.jobs import Note
from tests.worker_command import WorkerCommand


def _logger(sink: LogSink, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(sink.handler)
    return logger


def test_every_line_arrives_in_the_order_each_thread_logged_it() -> None:
    out = io.StringIO()
    sink = LogSink(out, logging.Formatter("%(threadName)s %(message)s"))
    logger = _logger(sink, "tests.logsink.order")

    def job(n: int) -> None:
        for i in range(500):
            logger.info("job%d line %d", n, i)

    threads = [threading.Thread(target=job, args=(n,), name=f"t{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    logger.removeHandler(sink.handler)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2000
    for n in range(4):
        mine = [line.split()[-1] for line in lines if line.startswith(f"t{n} ")]
        assert mine == [str(i) for i in range(500)]


def test_an_exception_is_formatted_with_its_traceback() -> None:
    out = io.StringIO()
    sink = LogSink(out, logging.Formatter("%(levelname)s %(message)s"))
    logger = _logger(sink, "tests.logsink.error")
    try:
        raise ValueError("row 3 has no date")
    except ValueError:
        logger.exception("Error performing ImportJob")
    sink.close()
    logger.removeHandler(sink.handler)

    text = out.getvalue()
    assert text.startswith("ERROR Error performing ImportJob\nTraceback (most recent call last):")
    assert "ValueError: row 3 has no date" in text


def test_lines_still_waiting_are_written_when_the_process_exits() -> None:
    script = (
        "import logging\n"
        "from activejob.worker import logsink\n"
        "logsink.start(logging.INFO, '%(message)s')\n"
        "for i in range(2000): logging.getLogger('x').info('line %d', i)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.splitlines() == [f"line {i}" for i in range(2000)]


def test_the_worker_writes_each_jobs_lines_at_the_default_level(url: str, tmp_path: Path) -> None:
    """The real command at its default level: every job's Performing and Performed
    lines, in order, with the worker's line format, through its log sink."""
    jobs = [Note.perform_later(f"note{n}") for n in range(30)]
    worker = WorkerCommand(
        tmp_path / "worker.out", url, "--import", "tests.worker.jobs", "--burst",
        "--burst-horizon", "0", "--threads", "3",
    )  # fmt: skip
    assert worker.proc.wait(60) == 0, worker.output.read_text()
    written = worker.output.read_text().splitlines()
    line = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[\d+\] INFO activejob: "
    for n, job in enumerate(jobs):
        mine = [text for text in written if f"(Job ID: {job.job_id})" in text]
        assert len(mine) == 2, "\n".join(written)
        start, done = mine
        assert re.fullmatch(
            line + rf"Performing tests\.worker\.jobs\.Note \(Job ID: {job.job_id}\) from "
            rf"sqlite\(default\) enqueued at \S+ with arguments: \"note{n}\"",
            start,
        ), start
        assert re.fullmatch(
            line + rf"Performed tests\.worker\.jobs\.Note \(Job ID: {job.job_id}\) from "
            r"sqlite\(default\) in \d+\.\d\dms",
            done,
        ), done
