"""Idle workers block on Redis and wake at once: no polling delay.

A waiter is a thread blocked in ``storage.wait``; each test shows it returns because
of the event (a push, a due time, a resume, a stop) and not because its timeout ran
out: timeouts are long and the measured time is far below them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

import pytest

from activejob import _time
from activejob.storage.base import JobState, NewJob, Result
from activejob.storage.redis import RedisStorage
from activejob.storage.selector import QueueSelector
from tests.backends import redis_support

pytestmark = pytest.mark.redis

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
storage = redis_support.storage

LONG = 10.0
"""A wait timeout no test should reach."""


def job(job_id: str, queue: str = "default", run_at: float | None = None) -> NewJob:
    return NewJob(job_id, "tests.Job", queue, 0, json.dumps({}), run_at)


class Waiter:
    """``storage.wait(queues, timeout)`` on a thread: its result and how long it took."""

    def __init__(self, storage: RedisStorage, queues: list[str], timeout: float = LONG) -> None:
        self.result: bool | None = None
        self.took = 0.0
        self.entered = threading.Event()

        def run() -> None:
            start = time.perf_counter()
            self.entered.set()
            self.result = storage.wait(queues, timeout)
            self.took = time.perf_counter() - start

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.entered.wait(5)

    def join(self, timeout: float = LONG + 5) -> Waiter:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "wait() did not return"
        return self


def blocked(storage: RedisStorage, waiter: Waiter) -> None:
    """Give the waiter time to block: a deliberate pause, the thing under test is that
    the wait then returns because of what happens next."""
    time.sleep(0.05)  # sleep-ok: let the waiter reach its blocking wait
    assert waiter.thread.is_alive()


def test_wait_returns_at_once_when_a_job_is_claimable(storage: RedisStorage) -> None:
    storage.push([job("ready")])
    start = time.perf_counter()
    assert storage.wait(["default"], LONG) is True
    assert time.perf_counter() - start < 1.0


def test_a_push_wakes_an_idle_waiter(storage: RedisStorage) -> None:
    waiter = Waiter(storage, ["default"])
    blocked(storage, waiter)
    pushed = time.perf_counter()
    storage.push([job("now")])
    waiter.join()
    assert waiter.result is True
    assert waiter.took < 1.0
    assert time.perf_counter() - pushed < 1.0
    assert [c.job_id for c in storage.claim("w", ["default"], 1)] == ["now"]


def test_a_push_to_another_queue_does_not_wake(storage: RedisStorage) -> None:
    waiter = Waiter(storage, ["mail"], timeout=0.3)
    blocked(storage, waiter)
    storage.push([job("elsewhere", "default")])
    assert waiter.join().result is False
    assert waiter.took >= 0.29


def test_a_prefix_waiter_wakes_for_matching_queues(storage: RedisStorage) -> None:
    waiter = Waiter(storage, ["critical", "mail*"])
    blocked(storage, waiter)
    storage.push([job("m", "mailers")])
    assert waiter.join().result is True
    assert waiter.took < 1.0


def test_a_scheduled_job_wakes_its_waiter_when_due(storage: RedisStorage) -> None:
    due = _time.now() + 0.2
    storage.push([job("soon", run_at=due)])
    assert storage.wait(["default"], LONG) is True
    woke = _time.now()
    assert due <= woke < due + 0.5
    assert [c.job_id for c in storage.claim("w", ["default"], 1)] == ["soon"]


def test_scheduling_an_earlier_job_shortens_a_wait_in_progress(storage: RedisStorage) -> None:
    storage.push([job("far", run_at=_time.now() + 60)])
    waiter = Waiter(storage, ["default"])
    blocked(storage, waiter)
    storage.push([job("near", run_at=_time.now() + 0.1)])
    waiter.join()  # woken by the push; the next wait times itself to "near"
    assert waiter.result is True and waiter.took < 1.0
    assert storage.wait(["default"], LONG) is True
    assert [c.job_id for c in storage.claim("w", ["default"], 5)] == ["near"]


def test_an_announcement_between_looking_and_waiting_is_not_lost(storage: RedisStorage) -> None:
    notifier = storage._notifier
    notifier.listen()  # what wait() does before it looks for work
    storage.push([job("in-between")])  # published before the waiter blocks
    start = time.perf_counter()
    assert notifier.wait(QueueSelector.parse(["default"]), LONG) is True
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda s: s.resume("default"), id="resume"),
        pytest.param(lambda s: s.notify_stop(), id="notify_stop"),
    ],
)
def test_resume_and_stop_wake_waiters(
    storage: RedisStorage, action: Callable[[RedisStorage], None]
) -> None:
    storage.pause("default")
    storage.push([job("paused")])
    waiter = Waiter(storage, ["default"])
    blocked(storage, waiter)
    action(storage)
    assert waiter.join().result is True
    assert waiter.took < 1.0


def test_a_retry_result_wakes_waiters_of_its_new_queue(storage: RedisStorage) -> None:
    storage.push([job("r")])
    claimed = storage.claim("w", ["default"], 1)[0]
    waiter = Waiter(storage, ["retries"])
    blocked(storage, waiter)
    storage.complete(
        [
            Result(
                claimed.id,
                JobState.SCHEDULED,
                payload="{}",
                run_at=_time.now(),
                queue_name="retries",
            )
        ]
    )
    assert waiter.join().result is True
    assert waiter.took < 1.0


def test_a_forked_child_gets_its_own_listener(storage: RedisStorage) -> None:
    assert storage.wait(["default"], 0.01) is False  # the parent's listener is running
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 2
        try:
            storage._notifier.listen()  # as wait() does, in this process
            os.write(ready_w, b"r")
            code = 0 if storage._notifier.wait(QueueSelector.parse(["default"]), 3.0) else 1
        finally:
            os._exit(code)
    assert os.read(ready_r, 1) == b"r"
    start = time.perf_counter()
    storage.push([job("for-the-child")])
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert time.perf_counter() - start < 2.0
