"""Jobs the bridge tests enqueue and the foreign workers run.

The test process imports this module, and so does each foreign worker (Celery's
``include=``, the module list of ``dramatiq``). Every execution appends one JSON
line to the ledger file named by ``AJ_BRIDGE_LEDGER``, so a test counts exactly
how often a job ran, in which process and when.
"""

from __future__ import annotations

import json
import os
import time

from activejob import Job, after_discard, discard_on, retry_on


class FlakyError(Exception):
    """Raised on purpose by the jobs below."""


class GoneError(Exception):
    """A job's subject has gone: the job is discarded."""


def record(event: str, job: Job, tag: str) -> None:
    """One ledger line for this execution of ``job``."""
    line = {
        "event": event,
        "tag": tag,
        "job_id": job.job_id,
        "executions": job.executions,
        "queue": job.queue_name,
        "at": time.time(),
        "pid": os.getpid(),
    }
    with open(os.environ["AJ_BRIDGE_LEDGER"], "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(line) + "\n")


class RecordJob(Job):
    """Writes one ledger line."""

    def perform(self, tag: str) -> None:
        record("ran", self, tag)


class NoopJob(Job):
    """Does nothing: the benchmark's job."""

    def perform(self, n: int) -> None:
        pass


@retry_on(FlakyError, wait=0.2, attempts=5, jitter=0)
class FlakyJob(Job):
    """Fails its first ``failures`` executions, retried by our rule."""

    def perform(self, tag: str, failures: int) -> None:
        record("ran", self, tag)
        if self.executions <= failures:
            raise FlakyError(f"execution {self.executions} fails on purpose")


@retry_on(FlakyError, wait=0.1, attempts=2, jitter=0)
class AlwaysFailsJob(Job):
    """Fails every time: after two executions the failure reaches the foreign system."""

    def perform(self, tag: str) -> None:
        record("ran", self, tag)
        raise FlakyError(f"always fails: {tag}")


@discard_on(GoneError)
class DiscardJob(Job):
    """Raises GoneError, which discards it; records the discard."""

    def perform(self, tag: str) -> None:
        record("ran", self, tag)
        raise GoneError(tag)

    @after_discard
    def note_discard(self, exception: BaseException) -> None:
        record("discarded", self, self.arguments[0])


class AsyncRecordJob(Job):
    """An ``async def perform``: the bridge's task runs it on an event loop."""

    async def perform(self, tag: str) -> None:
        record("ran", self, tag)
