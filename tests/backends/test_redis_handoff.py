"""New jobs handed straight to idle fetchers on Redis (storage/redis/handoff.py): who
gets one and who does not, wake-ups, stopping, and recovery of a job handed to a
worker that died."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import activejob
from activejob.storage.base import ClaimedJob, JobFilter, JobState, NewJob
from activejob.storage.concurrency import ConcurrencySlot
from activejob.storage.redis import RedisStorage, handoff
from tests.backends import redis_support
from tests.backends.redis_support import idle_fetchers
from tests.support import wait_for
from tests.worker import jobs
from tests.worker.conftest import FAST, working
from tests.worker.jobs import AppendLine, Note
from tests.worker_command import WorkerCommand

pytestmark = pytest.mark.redis

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
storage = redis_support.storage


class Waiter:
    """A thread that claims once (finding nothing) and then waits as fetcher ``wid``."""

    def __init__(self, storage: RedisStorage, wid: str, queues: list[str], timeout: float = 30):
        self.storage, self.wid, self.queues = storage, wid, queues
        self.handed: list[ClaimedJob] | None = None
        self.thread = threading.Thread(target=self._run, args=(timeout,), daemon=True)
        self.thread.start()

    def _run(self, timeout: float) -> None:
        assert self.storage.claim(self.wid, self.queues, 5) == []
        self.handed = self.storage.wait_handoff(self.wid, self.queues, timeout)

    def registered(self) -> Waiter:
        wait_for(lambda: self.wid in idle_fetchers(self.storage))
        return self

    def result(self) -> list[ClaimedJob]:
        self.thread.join(10)
        assert not self.thread.is_alive() and self.handed is not None
        return self.handed


@pytest.fixture(autouse=True)
def long_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    # A registration lasts a second at most; these tests wait longer, so that only a
    # hand-off or a wake-up can end a wait they see end.
    monkeypatch.setattr(handoff, "LONGEST", 30.0)


def new_job(job_id: str, queue: str = "default", **fields: Any) -> NewJob:
    payload = json.dumps({"job_id": job_id, "arguments": []})
    return NewJob(job_id, "app.Job", queue, fields.pop("priority", 0), payload, **fields)


def info_of(storage: RedisStorage, job_id: str) -> Any:
    info = storage.get(job_id)
    assert info is not None
    return info


def test_a_plain_job_is_handed_to_the_idle_fetcher_already_claimed(storage: RedisStorage) -> None:
    waiter = Waiter(storage, "w1", ["default"]).registered()
    [sid] = storage.push([new_job("j1")])
    [claimed] = waiter.result()
    assert (claimed.id, claimed.job_id, claimed.queue_name, claimed.attempts) == (
        sid,
        "j1",
        "default",
        1,
    )
    info = info_of(storage, "j1")
    assert (info.state, info.worker_id, info.attempts) == (JobState.RUNNING, "w1", 1)
    assert idle_fetchers(storage) == {}  # one job per registration
    assert storage.claim("w2", ["default"], 5) == []


def test_two_idle_fetchers_get_one_job_each(storage: RedisStorage) -> None:
    first = Waiter(storage, "w1", ["default"]).registered()
    second = Waiter(storage, "w2", ["*"]).registered()
    storage.push([new_job("j1"), new_job("j2"), new_job("j3")])
    got = {w.wid: [c.job_id for c in w.result()] for w in (first, second)}
    assert sorted(got["w1"] + got["w2"]) == ["j1", "j2"]
    assert len(got["w1"]) == len(got["w2"]) == 1
    assert info_of(storage, "j3").state is JobState.READY  # no idle fetcher was left


def test_a_fetcher_is_handed_only_jobs_of_its_queues(storage: RedisStorage) -> None:
    waiter = Waiter(storage, "w1", ["a", "mail*"]).registered()
    storage.push([new_job("other", queue="b")])
    assert info_of(storage, "other").state is JobState.READY
    assert "w1" in idle_fetchers(storage)  # an announcement of queue b is not for it
    storage.push([new_job("mine", queue="mail-eu")])
    assert [c.job_id for c in waiter.result()] == ["mine"]


def test_a_paused_queue_hands_nothing_over(storage: RedisStorage) -> None:
    storage.pause("default")
    waiter = Waiter(storage, "w1", ["default"]).registered()
    storage.push([new_job("j1")])
    assert waiter.result() == []  # woken to look again, and it finds the queue paused
    assert info_of(storage, "j1").state is JobState.READY
    storage.resume("default")
    assert [c.job_id for c in storage.claim("w1", ["default"], 5)] == ["j1"]


def test_a_ready_job_is_never_passed_over(storage: RedisStorage) -> None:
    storage.push([new_job("older", priority=5)])
    # A registration beside a ready job of its queue (idle.lua never makes one, as the
    # job is claimable; a hand-off must still not jump the queue).
    deadline = time.time() + 30
    storage.client.hset(storage.key("idle"), "w1", json.dumps([deadline, ["default"]]))
    storage.push([new_job("urgent", priority=0)])
    assert info_of(storage, "urgent").state is JobState.READY
    # w1 was told to look again (and would claim both, in order), not handed a job.
    assert storage.client.lrange(storage.key("handoff", "w1"), 0, -1) == [""]
    claimed = storage.claim("w2", ["default"], 5)
    assert [c.job_id for c in claimed] == ["urgent", "older"]  # priority order, as always


def test_scheduled_and_flow_control_jobs_go_the_old_way(storage: RedisStorage) -> None:
    limited = json.dumps([{"key": "k", "limit": 1, "per": 60.0}])
    cases = [
        ("scheduled", new_job("scheduled", run_at=time.time() + 3600)),
        ("rate", new_job("rate", rate_limits=limited)),
        ("slots", new_job("slots", concurrency=(ConcurrencySlot("k", 1, 60.0),))),
        ("unique", new_job("unique", unique_key="u")),
    ]
    for job_id, job in cases:
        waiter = Waiter(storage, f"w-{job_id}", ["default"]).registered()
        storage.push([job])
        assert waiter.result() == [], job_id  # a wake-up, not a job
        assert info_of(storage, job_id).state is not JobState.RUNNING, job_id
        storage.discard(JobFilter(job_ids=[job_id]))


def test_a_wait_that_times_out_ends_its_registration(
    storage: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "LONGEST", 0.05)
    assert Waiter(storage, "w1", ["default"], timeout=0.05).result() == []
    assert idle_fetchers(storage) == {}
    storage.push([new_job("j1")])
    assert info_of(storage, "j1").state is JobState.READY


def test_notify_stop_wakes_a_waiting_fetcher(storage: RedisStorage) -> None:
    waiter = Waiter(storage, "w1", ["default"]).registered()
    storage.notify_stop()
    assert waiter.result() == []
    assert idle_fetchers(storage) == {}  # it unregistered as idle on its way out
    storage.push([new_job("j1")])
    assert info_of(storage, "j1").state is JobState.READY


def test_a_stopping_worker_gives_back_what_it_was_handed(storage: RedisStorage) -> None:
    waiter = Waiter(storage, "w1", ["default"]).registered()
    storage.push([new_job("j1")])
    assert [c.job_id for c in waiter.result()] == ["j1"]
    storage.unregister_worker("w1")
    assert info_of(storage, "j1").state is JobState.READY
    assert [c.job_id for c in storage.claim("w2", ["default"], 5)] == ["j1"]


def test_a_job_handed_over_while_its_wait_broke_off_is_not_lost(storage: RedisStorage) -> None:
    # A registration whose fetcher lost its connection: the job waits in its list, and
    # the fetcher's next wait takes it at once.
    storage.client.hset(storage.key("idle"), "w1", json.dumps([time.time() + 30, ["default"]]))
    storage.push([new_job("j1")])
    assert info_of(storage, "j1").state is JobState.RUNNING
    assert [c.job_id for c in storage.wait_handoff("w1", ["default"], 5)] == ["j1"]
    assert idle_fetchers(storage) == {}


def test_an_idle_worker_runs_a_handed_job_on_the_thread_that_woke(redis_url: str) -> None:
    jobs.RUNS.clear()
    activejob.configure(adapter=redis_url)
    store = RedisStorage(redis_url)
    try:
        with working(redis_url, FAST) as background:
            wait_for(lambda: idle_fetchers(store))
            job = Note.perform_later("handed")
            wait_for(lambda: jobs.labels() == ["handed"])
            fields = store.client.hgetall(store.key("job", f"{int(job.provider_job_id):016d}"))
            assert fields["started_at"] == fields["created_at"]  # claimed by the push
            [(_, thread)] = jobs.RUNS
            assert thread.startswith("activejob-thread-")
            background.worker.stop()
    finally:
        store.close()
        jobs.RUNS.clear()


@pytest.fixture
def commands() -> Iterator[list[WorkerCommand]]:
    started: list[WorkerCommand] = []
    yield started
    for command in started:
        if command.proc.poll() is None:
            command.proc.kill()
            command.proc.wait()


def test_a_job_handed_to_a_worker_that_died_is_recovered(
    tmp_path: Path, redis_url: str, storage: RedisStorage, commands: list[WorkerCommand]
) -> None:
    activejob.configure(adapter=redis_url)
    flags = ("--import", "tests.worker.jobs", "--heartbeat-interval", "0.2", "--recover-after", "1")
    commands.append(WorkerCommand(tmp_path / "first.out", redis_url, *flags))
    log = tmp_path / "runs.log"
    while True:
        wait_for(lambda: len(idle_fetchers(storage)) == 1, timeout=15)
        [pid] = [w["pid"] for w in storage.workers()]
        os.kill(pid, signal.SIGSTOP)  # the worker process stops dead, registered as idle
        [(wid, deadline)] = idle_fetchers(storage).items() or [("", 0.0)]
        if deadline > time.time() + 0.3:
            break
        os.kill(pid, signal.SIGCONT)  # its registration was about to lapse: again
    commands[0].proc.kill()  # and its supervisor with it, so that nobody reaps it
    os.kill(pid, signal.SIGKILL)
    job = AppendLine.perform_later(log, "handed")
    info = info_of(storage, job.job_id)
    assert (info.state, info.worker_id) == (JobState.RUNNING, wid)  # handed to the dead
    commands.append(WorkerCommand(tmp_path / "second.out", redis_url, *flags))
    wait_for(lambda: info_of(storage, job.job_id).state is JobState.SUCCEEDED, timeout=20)
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["handed"]
    assert wid not in idle_fetchers(storage)


def test_a_scheduled_job_still_starts_when_due(redis_url: str, storage: RedisStorage) -> None:
    jobs.RUNS.clear()
    activejob.configure(adapter=redis_url)
    with working(redis_url, FAST):
        wait_for(lambda: idle_fetchers(storage))
        Note.set(wait=timedelta(seconds=0.3)).perform_later("later")
        wait_for(lambda: jobs.labels() == ["later"], timeout=5)
    jobs.RUNS.clear()


def test_handoff_0_in_the_url_keeps_the_pub_sub_wait(redis_url: str) -> None:
    store = RedisStorage(redis_support.with_params(redis_url, handoff=0))
    try:
        assert store.settings.handoff is False
        waiter = Waiter(store, "w1", ["default"])
        wait_for(lambda: store._notifier._thread is not None)  # listening, not registered
        assert idle_fetchers(store) == {}
        store.push([new_job("j1")])
        assert waiter.result() == []  # woken by the announcement, to claim
        assert info_of(store, "j1").state is JobState.READY
    finally:
        store.close()


def test_a_job_due_within_the_wait_is_timed_here_not_by_blpop(storage: RedisStorage) -> None:
    # A BLPOP's timeout fires only on the server's clock tick (hz: every 100 ms by
    # default), so a fetcher that must wake when a job comes due does not register:
    # it waits on Pub/Sub with its own timer, then claims.
    due = time.time() + 0.5
    storage.push([new_job("soon", run_at=due)])
    waiter = Waiter(storage, "w1", ["default"])
    seen: set[str] = set()
    while waiter.thread.is_alive():
        seen.update(idle_fetchers(storage))
        time.sleep(0.01)  # sleep-ok: sampling the registrations while the wait lasts
    assert waiter.result() == [] and time.time() >= due
    assert seen == set()
    assert [c.job_id for c in storage.claim("w1", ["default"], 5)] == ["soon"]
