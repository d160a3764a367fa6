"""The one skeleton of an execution and its seam, ``wrapped()`` (docs/execution.md).

What the next features (timeouts, cancellation, continuations) rely on: for sync
and async jobs alike, ``wrapped`` is entered once per execution around the
argument loading, the perform callbacks and ``perform``; an exception it raises is
the job's failure and meets the job's rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from activejob import Job, after_perform, before_perform, retry_on
from activejob.job import execution
from activejob.job.execution import arun, run

trace: list[str] = []


class Expired(Exception):
    pass


@retry_on(Expired, wait=5, attempts=3, jitter=0)
class SyncJob(Job):
    @before_perform
    def before(self) -> None:
        trace.append("before")

    @after_perform
    def after(self) -> None:
        trace.append("after")

    def perform(self, n: int) -> int:
        trace.append("perform")
        return n


@retry_on(Expired, wait=5, attempts=3, jitter=0)
class AsyncJob(Job):
    @before_perform
    def before(self) -> None:
        trace.append("before")

    async def perform(self, n: int) -> int:
        trace.append("perform")
        return n


@pytest.fixture(autouse=True)
def seam(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    raising: list[BaseException] = []

    @contextmanager
    def wrapped(job: Job, adapter: object, stopping: object = None, **_: object) -> Iterator[None]:
        trace.append(f"enter {job.executions}")
        yield
        trace.append("exit")
        if raising:
            raise raising.pop()

    trace.clear()
    monkeypatch.setattr(execution, "wrapped", wrapped)
    yield raising


@pytest.mark.parametrize("job_class", [SyncJob, AsyncJob])
def test_the_seam_wraps_callbacks_and_perform_once_per_execution(job_class: type[Job]) -> None:
    outcome = run(job_class(7))
    assert outcome.kind == "succeeded" and outcome.value == 7
    inner = ["before", "perform", "after"] if job_class is SyncJob else ["before", "perform"]
    assert trace == ["enter 1", *inner, "exit"]


@pytest.mark.parametrize("job_class", [SyncJob, AsyncJob])
def test_an_error_raised_by_the_seam_meets_the_jobs_rules(
    job_class: type[Job], seam: list[BaseException]
) -> None:
    seam.append(Expired("too slow"))
    outcome = asyncio.run(arun(job_class(7)))
    assert outcome.kind == "retry" and isinstance(outcome.exception, Expired)
    assert outcome.retry is not None and outcome.retry.wait == 5
