"""Faults: lost replies, an unreachable or restarted Redis, a worker killed with -9.

Lost replies and outages go through a proxy in front of the shared server (see
``FaultyProxy``); restarts use a private ``redis-server`` with AOF on, so that the
shared server is never disturbed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator

import pytest

from activejob import _time
from activejob.storage.base import JobFilter, JobState, NewJob, Result, StorageUnavailable
from activejob.storage.redis import RedisStorage
from tests.backends import redis_support
from tests.backends.redis_support import FaultyProxy, PrivateRedis, with_params
from tests.support import wait_for

pytestmark = pytest.mark.redis

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
private_redis = redis_support.private_redis
proxy = redis_support.proxy
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
storage = redis_support.storage


def job(job_id: str, queue: str = "default") -> NewJob:
    return NewJob(job_id, "tests.Job", queue, 0, json.dumps({"id": job_id}))


@pytest.fixture
def via_proxy(proxy: FaultyProxy, prefix: str) -> Iterator[RedisStorage]:
    """A storage that reaches Redis through the proxy, retrying for up to 0.3 s."""
    store = RedisStorage(with_params(proxy.url, prefix=prefix, reconnect_timeout=0.3))
    # Connect and load the scripts now, so that faults hit commands, not the handshake
    # or a NOSCRIPT reply: migrate() on a pooled connection, a script call on this
    # thread's own (see Scripts).
    store.migrate()
    assert store.get("no-such-job") is None
    yield store
    store.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    now = [_time.now()]
    monkeypatch.setattr(_time, "now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def test_a_push_whose_reply_was_lost_is_retried_without_storing_twice(
    via_proxy: RedisStorage, storage: RedisStorage, proxy: FaultyProxy
) -> None:
    proxy.drop_next_reply()
    ids = via_proxy.push([job("once"), job("twice?")])
    assert proxy.replies_dropped == 1
    stored = storage.list(JobFilter(limit=None))
    assert sorted(i.job_id for i in stored) == ["once", "twice?"]
    assert sorted(i.id for i in stored) == sorted(ids)


def test_a_claim_whose_reply_was_lost_is_not_repeated(
    via_proxy: RedisStorage, storage: RedisStorage, proxy: FaultyProxy
) -> None:
    storage.push([job(f"j{i}") for i in range(4)])
    proxy.drop_next_reply()
    with pytest.raises(StorageUnavailable):
        via_proxy.claim("w", ["default"], 2)
    # The claim ran once: two jobs are running under the worker, which releases them
    # (the worker lists its running jobs after a failed claim); two are still ready.
    running = storage.list(JobFilter(states=[JobState.RUNNING]))
    assert [i.worker_id for i in running] == ["w", "w"]
    assert len(storage.list(JobFilter(states=[JobState.READY]))) == 2
    storage.complete([Result(i.id, JobState.READY) for i in running])
    assert len(via_proxy.claim("w", ["default"], 10)) == 4


def test_a_result_whose_reply_was_lost_is_applied_once(
    via_proxy: RedisStorage, storage: RedisStorage, proxy: FaultyProxy
) -> None:
    storage.push([job("j")])
    claimed = via_proxy.claim("w", ["default"], 1)[0]
    proxy.drop_next_reply()
    via_proxy.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)])
    assert proxy.replies_dropped == 1
    info = storage.get("j")
    assert info is not None and info.state is JobState.SUCCEEDED
    assert storage.workers()[0]["running"] == []


def test_a_result_that_could_not_be_recorded_runs_again(
    via_proxy: RedisStorage,
    storage: RedisStorage,
    proxy: FaultyProxy,
    clock: Callable[[float], None],
) -> None:
    storage.push([job("j")])
    claimed = via_proxy.claim("doomed", ["default"], 1)[0]
    proxy.cut()  # Redis unreachable for the worker until it dies
    with pytest.raises(StorageUnavailable):
        via_proxy.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)])
    assert storage.get("j").state is JobState.RUNNING  # type: ignore[union-attr]
    clock(120)  # the worker never heartbeats again
    assert storage.recover(60, 3) == (1, 0)
    again = storage.claim("survivor", ["default"], 1)
    assert [(c.job_id, c.attempts) for c in again] == [("j", 2)]


def test_operations_resume_after_an_outage(
    via_proxy: RedisStorage, storage: RedisStorage, proxy: FaultyProxy
) -> None:
    proxy.cut()
    with pytest.raises(StorageUnavailable):
        via_proxy.push([job("during")])
    proxy.restore()
    via_proxy.push([job("after")])
    assert [c.job_id for c in via_proxy.claim("w", ["default"], 5)] == ["after"]


def test_the_notification_listener_reconnects_after_an_outage(
    via_proxy: RedisStorage, storage: RedisStorage, proxy: FaultyProxy
) -> None:
    assert via_proxy.wait(["default"], 0.01) is False  # the listener is subscribed
    proxy.cut()
    proxy.restore()
    # First wait after the outage may be woken spuriously (anything missed meanwhile).
    wait_for(lambda: via_proxy._notifier._subscribed.is_set())
    via_proxy.wait(["default"], 0.01)
    start = time.perf_counter()
    storage.push([job("wake")])
    assert via_proxy.wait(["default"], 10.0) is True
    assert time.perf_counter() - start < 2.0


def test_jobs_survive_a_redis_kill_with_aof_and_the_storage_carries_on(
    private_redis: PrivateRedis,
) -> None:
    store = RedisStorage(with_params(private_redis.url, prefix="app", reconnect_timeout=5))
    try:
        store.push([job("before-1"), job("before-2")])
        claimed = store.claim("w", ["default"], 1)
        private_redis.restart()  # kill -9, then start again from the AOF
        # Same storage object: it reconnects, and reloads its scripts (NOSCRIPT).
        assert store.get("before-2").state is JobState.READY  # type: ignore[union-attr]
        store.complete([Result(claimed[0].id, JobState.SUCCEEDED, attempts=1)])
        store.push([job("after")])
        assert [c.job_id for c in store.claim("w", ["default"], 5)] == ["before-2", "after"]
        assert store.get("before-1").state is JobState.SUCCEEDED  # type: ignore[union-attr]
    finally:
        store.close()


HOLDER = textwrap.dedent(
    """
    import sys
    from activejob.storage.redis import RedisStorage
    storage = RedisStorage(sys.argv[1])
    storage.heartbeat("doomed", {"pid": 0})
    claimed = storage.claim("doomed", ["default"], 2)
    print(",".join(c.job_id for c in claimed), flush=True)
    sys.stdin.read()  # hold the jobs until killed
    """
)


def test_jobs_of_a_worker_killed_with_sigkill_run_again(
    redis_url: str, storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("a"), job("b"), job("c")])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "a,b"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    assert {i.job_id for i in storage.list(JobFilter(states=[JobState.RUNNING]))} == {"a", "b"}
    storage.heartbeat("survivor")
    clock(60)
    storage.heartbeat("survivor")
    assert storage.recover(30, 3) == (2, 0)
    rerun = storage.claim("survivor", ["default"], 10)
    assert [(c.job_id, c.attempts) for c in rerun] == [("a", 2), ("b", 2), ("c", 1)]
    assert storage.get("a").crashes == 1  # type: ignore[union-attr]
