"""`make demo`: enqueue a mix of jobs into SQLite, run the worker until the queues are
empty, and show what ran, when and how.

It deletes and recreates its own ``demo.sqlite3``, so it runs the same every time.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import demo_jobs

import activejob
import activejob.log
import activejob.mail
from activejob import events
from activejob.adapters.durable import storage_of
from activejob.mail.message import readable_text
from activejob.storage.base import JobFilter, JobInfo, JobState
from activejob.worker import Worker, WorkerOptions

DATABASE = Path(__file__).resolve().parent / "demo.sqlite3"
URL = f"sqlite:///{DATABASE}"
_started = time.time()
_print_lock = threading.Lock()


def say(text: str) -> None:
    """One line of the live display, stamped with seconds since the start."""
    with _print_lock:
        print(f"  {time.time() - _started:6.2f}s  {text}", flush=True)


def fresh_database() -> None:
    for path in DATABASE.parent.glob(DATABASE.name + "*"):
        path.unlink()
    activejob.configure(adapter=URL)
    activejob.mail.configure(url="test:")  # the worker runs here: its mail lands in deliveries


def enqueue() -> int:
    jobs = [
        demo_jobs.ChargeCardJob.perform_later(1001, 4999),
        demo_jobs.send_welcome_email.perform_later("ada@example.com"),
        demo_jobs.ResizeImageJob.perform_later("cat.png", 640),
        demo_jobs.ResizeImageJob.perform_later("dog.png", 320),
        demo_jobs.FetchFeedJob.perform_later("https://example.com/feed.xml"),
        demo_jobs.SendReminderJob.set(wait=3).perform_later(1001),
        demo_jobs.ImportCsvJob.perform_later("orders.csv"),
        demo_jobs.ShopMailer.welcome("Ada", "ada@example.com").deliver_later(),
    ]
    return len(jobs)


def _name(event: events.Event) -> str:
    return type(event.job).__name__ if event.job is not None else "(unreadable job)"


def _on_start(event: events.Event) -> None:
    assert event.job is not None
    where = "event loop" if type(event.job).is_async() else threading.current_thread().name
    say(f"start    {_name(event)} (execution {event.job.executions}, on {where})")


def _on_perform(event: events.Event) -> None:
    outcome = event.extra.get("outcome")
    if outcome == "succeeded":
        say(f"done     {_name(event)} in {(event.duration or 0) * 1000:.0f} ms")
    elif outcome != "retry":
        say(f"{outcome:<8} {_name(event)}: {event.exception!r}")


def _on_retry(event: events.Event) -> None:
    say(f"retry    {_name(event)} in {event.extra['wait']:.1f}s after: {event.exception}")


def show_progress() -> None:
    """Live lines from the worker's events (this replaces the usual log lines)."""
    activejob.log.uninstall()
    events.subscribe("perform_start", _on_start)
    events.subscribe("perform", _on_perform)
    events.subscribe("enqueue_retry", _on_retry)


def _at(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.timestamp() - _started:.2f}s"


def _row(info: JobInfo) -> tuple[str, ...]:
    note = ""
    if info.error is not None:
        note = f"{info.error.exception_class.rsplit('.', 1)[-1]}: {info.error.message}"
    elif info.attempts > 1:
        note = "retried through retry_on"
    return (
        info.job_class.rsplit(".", 1)[-1],
        info.queue_name,
        info.state.value,
        str(info.attempts),
        _at(info.created_at),
        _at(info.started_at),
        _at(info.finished_at),
        note,
    )


def summary(jobs: list[JobInfo]) -> None:
    """What ran, when and how: one row per stored job."""
    header = ("job", "queue", "state", "runs", "enqueued", "last start", "finished", "note")
    rows = [header, *(_row(info) for info in sorted(jobs, key=lambda j: j.created_at))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for number, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  " + "  ".join(cells).rstrip())
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))
    print()


def main() -> int:
    fresh_database()
    count = enqueue()
    print(f"Enqueued {count} jobs into {DATABASE.name}. Running the worker in burst mode:\n")
    show_progress()
    options = WorkerOptions(threads=4, poll_interval=0.1, burst_horizon=10)
    Worker(URL, options=options).run(burst=True)
    say("nothing left to run: the worker stopped")

    storage = storage_of(URL)
    jobs: list[JobInfo] = storage.list(JobFilter(limit=None))
    summary(jobs)
    failed = [info for info in jobs if info.state is JobState.FAILED]
    print(f"  {len(jobs)} jobs: {len(jobs) - len(failed)} succeeded, {len(failed)} kept as failed.")
    for info in failed:
        assert info.error is not None
        print(f"\n  {info.job_class} keeps its traceback for `activejob jobs`:\n")
        print("    " + info.error.traceback.strip().replace("\n", "\n    "))
    show_mail()
    return 0


def show_mail() -> None:
    """The mail the worker delivered (to the ``test:`` delivery), as a reader sees it."""
    for message in activejob.mail.deliveries:
        print("\n  MailDeliveryJob ran ShopMailer.welcome and delivered this mail:\n")
        for line in readable_text(message).strip().splitlines():
            print(f"    {line}".rstrip())


if __name__ == "__main__":
    sys.exit(main())
