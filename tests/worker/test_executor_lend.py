"""``Executor.lend``: a fetcher's wait lent to an idle job thread, whose job then
starts on that same thread (the Redis hand-off's last hop)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from activejob.storage.base import ClaimedJob, Result
from activejob.worker.executor import Executor, Task
from tests.support import wait_for
from tests.worker import jobs
from tests.worker.jobs import Gated, Note


def task_of(job: Note | Gated, sid: int) -> Task:
    claimed = ClaimedJob(sid, job.job_id, "default", json.dumps(job.serialize()), 1)
    return Task(claimed, job)


@pytest.fixture
def finished() -> list[Result]:
    return []


@pytest.fixture
def executor(finished: list[Result]) -> Iterator[Executor]:
    jobs.RUNS.clear()
    built = Executor(2, 1, lambda task, result: finished.append(result))
    built.start()
    yield built
    jobs.GATES.clear()
    built.close()
    jobs.RUNS.clear()


def test_a_lent_call_runs_on_an_idle_thread_and_its_task_starts_there(
    executor: Executor, finished: list[Result]
) -> None:
    callers: list[str] = []

    def call() -> Task:
        callers.append(threading.current_thread().name)
        return task_of(Note("lent"), 1)

    wait_for(lambda: executor.lend(call))
    wait_for(lambda: len(finished) == 1)
    [(label, thread)] = jobs.RUNS
    assert label == "lent" and callers == [thread] and thread.startswith("activejob-thread-")
    assert executor.outstanding == 0


def test_a_lent_call_that_returns_nothing_frees_its_thread(
    executor: Executor, finished: list[Result]
) -> None:
    ran = threading.Event()

    def call() -> None:
        ran.set()

    wait_for(lambda: executor.lend(call))
    assert ran.wait(5)
    executor.submit(task_of(Note("after"), 2))
    wait_for(lambda: len(finished) == 1)
    assert jobs.labels() == ["after"]


def test_nothing_is_lent_when_no_thread_is_idle(executor: Executor, finished: list[Result]) -> None:
    jobs.GATES["g"] = threading.Event()
    executor.submit(task_of(Gated("g", "one"), 1))
    executor.submit(task_of(Gated("g", "two"), 2))
    wait_for(lambda: sorted(jobs.labels()) == ["one:started", "two:started"])
    assert executor.lend(lambda: None) is False  # both threads run a job
    jobs.GATES["g"].set()
    wait_for(lambda: len(finished) == 2)
