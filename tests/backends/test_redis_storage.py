"""The Redis storage on the real server: ordering, states, recovery, operating.

Each test runs under its own key prefix (see ``redis_support``). Time is driven
through ``activejob._time.now`` where a test needs it to pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from activejob import _time
from activejob.storage.base import (
    ErrorInfo,
    JobFilter,
    JobState,
    NewJob,
    Result,
    StorageError,
    WorkerLostError,
)
from activejob.storage.redis import RedisStorage
from tests.backends import redis_support
from tests.backends.redis_support import with_params

pytestmark = pytest.mark.redis

# Fixtures shared by the Redis tests.
prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url
storage = redis_support.storage


def job(
    job_id: str, queue: str = "default", priority: int = 0, run_at: float | None = None
) -> NewJob:
    return NewJob(job_id, "tests.Job", queue, priority, json.dumps({"id": job_id}), run_at)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Freeze activejob's clock at the real time; calling it moves time forward."""
    now = [_time.now()]
    monkeypatch.setattr(_time, "now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def claim_ids(storage: RedisStorage, queues: list[str], limit: int = 100) -> list[str]:
    return [c.job_id for c in storage.claim("w", queues, limit)]


def test_push_returns_increasing_ids_and_stores_the_job(storage: RedisStorage) -> None:
    ids = storage.push([job("a"), job("b", queue="mail", priority=3)])
    assert ids[1] > ids[0]
    info = storage.get("b")
    assert info is not None
    assert (info.id, info.queue_name, info.priority, info.state) == (
        ids[1],
        "mail",
        3,
        JobState.READY,
    )
    assert info.payload == {"id": "b"} and info.attempts == 0 and info.job_class == "tests.Job"


def test_claim_order_is_priority_then_run_at_then_insertion(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    now = _time.now()
    storage.push([job("late-low", priority=5), job("first-low", priority=5)])
    storage.push([job("high", priority=-1)])
    storage.push([job("old", priority=5, run_at=now - 60)])  # already due: ready, oldest
    storage.push([job(f"bulk{i}", priority=7) for i in range(12)])  # same instant: FIFO
    got = claim_ids(storage, ["default"], 3) + claim_ids(storage, ["default"])
    assert got == ["high", "old", "late-low", "first-low"] + [f"bulk{i}" for i in range(12)]


def test_queue_entries_are_tried_in_order_and_wildcards_merge_by_priority(
    storage: RedisStorage,
) -> None:
    storage.push([job("d1", "default", 0), job("m-low", "mailers", 9), job("mx-high", "mail_x", 1)])
    storage.push([job("c1", "critical", 50), job("other", "zzz", -5)])
    # "critical" first whatever its priority; then "mail*" merged by priority; then the rest.
    assert claim_ids(storage, ["critical", "mail*", "*"]) == [
        "c1",
        "mx-high",
        "m-low",
        "other",
        "d1",
    ]


def test_claim_takes_at_most_limit_and_marks_jobs_running(storage: RedisStorage) -> None:
    storage.push([job(f"j{i}") for i in range(5)])
    claimed = storage.claim("worker-1", ["default"], 2)
    assert [c.attempts for c in claimed] == [1, 1]
    info = storage.get(claimed[0].job_id)
    assert info is not None and info.state is JobState.RUNNING and info.worker_id == "worker-1"
    assert info.started_at is not None and info.heartbeat_at is not None
    assert len(storage.claim("worker-2", ["default"], 10)) == 3
    assert storage.claim("worker-2", ["default"], 10) == []


def test_a_batch_larger_than_one_deferred_call_is_recorded_whole(storage: RedisStorage) -> None:
    # claim and complete gather their index writes into one call per key, cut into
    # slices of 1000 arguments: 1300 jobs over two queues take several slices.
    storage.push([job(f"a{i}", "a") for i in range(700)] + [job(f"b{i}", "b") for i in range(600)])

    def counts() -> dict[str, dict[JobState, int]]:
        return {q.name: {s: n for s, n in q.counts.items() if n} for q in storage.queues()}

    claimed = storage.claim("worker-1", ["*"], 1300)
    assert len(claimed) == 1300
    assert counts() == {"a": {JobState.RUNNING: 700}, "b": {JobState.RUNNING: 600}}
    assert len(storage.workers()[0]["running"]) == 1300
    storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
    assert counts() == {"a": {JobState.SUCCEEDED: 700}, "b": {JobState.SUCCEEDED: 600}}
    assert storage.workers()[0]["running"] == []
    assert storage.prune(0) == 1300


def test_paused_queue_is_skipped_until_resumed(storage: RedisStorage) -> None:
    storage.push([job("p", "slow"), job("q", "fast")])
    storage.pause("slow")
    assert claim_ids(storage, ["*"]) == ["q"]
    assert claim_ids(storage, ["slow"]) == []
    assert [(q.name, q.paused) for q in storage.queues()] == [("fast", False), ("slow", True)]
    storage.resume("slow")
    assert claim_ids(storage, ["slow"]) == ["p"]


def test_scheduled_job_waits_until_due_and_then_reads_as_ready(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("later", run_at=_time.now() + 30)])
    assert storage.get("later").state is JobState.SCHEDULED  # type: ignore[union-attr]
    assert claim_ids(storage, ["default"]) == []
    clock(31)
    assert storage.get("later").state is JobState.READY  # type: ignore[union-attr]
    assert [i.job_id for i in storage.list(JobFilter(states=[JobState.SCHEDULED]))] == []
    assert claim_ids(storage, ["default"]) == ["later"]


def test_complete_records_each_outcome(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job(n) for n in ("ok", "bad", "drop", "again", "back")])
    c = {j.job_id: j for j in storage.claim("w", ["default"], 10)}
    error = ErrorInfo("builtins.ValueError", "boom", "Traceback ...")
    storage.complete(
        [
            Result(c["ok"].id, JobState.SUCCEEDED, attempts=1),
            Result(c["bad"].id, JobState.FAILED, error=error, attempts=1),
            Result(c["drop"].id, JobState.DISCARDED, error=error),
            Result(
                c["again"].id,
                JobState.SCHEDULED,
                error=error,
                payload='{"executions": 1}',
                run_at=_time.now() + 10,
                queue_name="retries",
                priority=4,
                attempts=1,
            ),
            Result(c["back"].id, JobState.READY, attempts=1),
        ]
    )
    states = {n: storage.get(n) for n in c}
    assert {n: i.state for n, i in states.items() if i} == {
        "ok": JobState.SUCCEEDED,
        "bad": JobState.FAILED,
        "drop": JobState.DISCARDED,
        "again": JobState.SCHEDULED,
        "back": JobState.READY,
    }
    assert states["bad"].error == error and states["bad"].finished_at is not None  # type: ignore[union-attr]
    again = states["again"]
    assert again is not None
    assert (again.queue_name, again.priority, again.payload) == ("retries", 4, {"executions": 1})
    assert storage.workers()[0]["running"] == []
    clock(11)
    retried = storage.claim("w", ["retries", "default"], 10)
    assert [(r.job_id, r.attempts) for r in retried] == [("again", 2), ("back", 2)]


def test_complete_ignores_results_of_a_claim_that_is_no_longer_current(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("x")])
    first = storage.claim("dead", ["default"], 1)[0]
    clock(100)
    assert storage.recover(30, 3) == (1, 0)
    second = storage.claim("alive", ["default"], 1)[0]
    assert second.attempts == 2
    storage.complete([Result(first.id, JobState.FAILED, attempts=first.attempts)])
    assert storage.get("x").state is JobState.RUNNING  # type: ignore[union-attr]
    done = [Result(second.id, JobState.SUCCEEDED, attempts=second.attempts)]
    storage.complete(done)
    storage.complete(done)  # a batch whose outcome was unknown, sent again
    assert storage.get("x").state is JobState.SUCCEEDED  # type: ignore[union-attr]


def test_recover_releases_only_stale_workers_and_fails_poison_jobs(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("poison"), job("innocent", "other")])
    storage.claim("w-old", ["default"], 1)
    storage.heartbeat("w-live", {"pid": 1})
    storage.claim("w-live", ["other"], 1)
    for crash in range(1, 4):
        clock(10)
        storage.heartbeat("w-live")
        assert storage.recover(5, 2) == ((1, 0) if crash < 3 else (0, 1))
        info = storage.get("poison")
        assert info is not None and info.crashes == crash
        if crash < 3:
            assert info.state is JobState.READY
            storage.claim("w-old", ["default"], 1)
    assert info.state is JobState.FAILED and info.error is not None
    assert info.error.exception_class.endswith(WorkerLostError.__qualname__)
    assert "3 times" in info.error.message
    assert storage.get("innocent").state is JobState.RUNNING  # type: ignore[union-attr]
    assert [w["id"] for w in storage.workers()] == ["w-live"]


def test_unregister_releases_what_the_worker_still_holds(storage: RedisStorage) -> None:
    storage.push([job("held")])
    storage.claim("w", ["default"], 1)
    storage.unregister_worker("w")
    assert storage.workers() == []
    assert storage.get("held").state is JobState.READY  # type: ignore[union-attr]


def test_retry_and_discard_act_on_every_match(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job(f"f{i}", "mail") for i in range(3)] + [job("keep", "other")])
    storage.push([job("s", "mail", run_at=_time.now() + 60)])
    claimed = storage.claim("w", ["*"], 10)
    error = ErrorInfo("E", "m", "t")
    storage.complete([Result(c.id, JobState.FAILED, error=error) for c in claimed])
    where = JobFilter(states=[JobState.FAILED], queue_name="mail", limit=1)
    assert storage.retry(where) == 3  # limit does not apply
    info = storage.get("f0")
    assert info is not None and info.state is JobState.READY and info.error == error  # kept
    assert storage.get("keep").state is JobState.FAILED  # type: ignore[union-attr]
    assert storage.discard(JobFilter(queue_name="mail")) == 4  # ready and scheduled
    assert storage.discard(JobFilter(queue_name="mail")) == 0
    assert storage.retry(JobFilter(job_ids=["s"])) == 1
    assert claim_ids(storage, ["mail"]) == ["s"]
    assert storage.discard(JobFilter(queue_name="other")) == 1  # failed
    assert storage.get("keep").state is JobState.DISCARDED  # type: ignore[union-attr]


def test_list_filters_and_pages_newest_first(storage: RedisStorage) -> None:
    storage.push([job(f"a{i}", "a") for i in range(5)] + [job(f"b{i}", "b") for i in range(3)])
    storage.push([NewJob("other-class", "tests.Other", "a", 0, "{}")])
    everything = [i.job_id for i in storage.list(JobFilter(limit=None))]
    assert everything == ["other-class", "b2", "b1", "b0", "a4", "a3", "a2", "a1", "a0"]
    page = storage.list(JobFilter(queue_name="a", job_class="tests.Job", limit=2, offset=1))
    assert [i.job_id for i in page] == ["a3", "a2"]
    by_id = storage.list(JobFilter(job_ids=["a0", "b1", "missing"]))
    assert [i.job_id for i in by_id] == ["b1", "a0"]
    assert storage.list(JobFilter(states=[JobState.FAILED])) == []


def test_prune_deletes_only_old_finished_jobs(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("old"), job("new"), job("waiting")])
    c = {j.job_id: j for j in storage.claim("w", ["default"], 2)}
    storage.complete([Result(c["old"].id, JobState.SUCCEEDED)])
    clock(100)
    storage.complete([Result(c["new"].id, JobState.FAILED, error=ErrorInfo("E", "m", ""))])
    assert storage.prune(50) == 1
    assert storage.get("old") is None
    assert storage.get("new") is not None and storage.get("waiting") is not None
    counts = {q.name: q.counts for q in storage.queues()}["default"]
    assert counts == {JobState.FAILED: 1, JobState.READY: 1}


def test_queues_counts_by_state(storage: RedisStorage) -> None:
    storage.push([job("r1"), job("r2"), job("s", run_at=_time.now() + 60), job("m", "mail")])
    storage.claim("w", ["mail"], 1)
    info = {q.name: {s: n for s, n in q.counts.items() if n} for q in storage.queues()}
    assert info == {
        "default": {JobState.READY: 2, JobState.SCHEDULED: 1},
        "mail": {JobState.RUNNING: 1},
    }


def test_workers_report_info_and_running_jobs(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.heartbeat("w1", {"hostname": "h", "pid": 42})
    clock(1)
    storage.push([job("j")])
    storage.claim("w2", ["default"], 1)
    rows = storage.workers()
    assert [r["id"] for r in rows] == ["w2", "w1"]  # most recent heartbeat first
    assert rows[0]["running"] == ["j"]
    assert rows[1]["hostname"] == "h" and rows[1]["pid"] == 42 and rows[1]["running"] == []
    assert rows[1]["started_at"] <= rows[1]["heartbeat_at"]


def test_prefixes_isolate_applications(redis_server_url: str, storage: RedisStorage) -> None:
    other_prefix = storage.settings.prefix + "-other"
    other = RedisStorage(with_params(redis_server_url, prefix=other_prefix))
    try:
        other.push([job("theirs")])
        storage.push([job("ours")])
        assert claim_ids(storage, ["*"]) == ["ours"]
        assert storage.get("theirs") is None
        assert [q.name for q in other.queues()] == ["default"]
    finally:
        other.client.delete(*other.client.scan_iter(match=f"{other_prefix}:*"))
        other.close()


def test_keys_live_under_the_prefix_only(storage: RedisStorage) -> None:
    storage.push([job("a", "q1"), job("b", "q2", run_at=_time.now() + 60)])
    storage.claim("w", ["*"], 1)
    prefix = storage.settings.prefix
    keys = set(storage.client.scan_iter(match=f"{prefix}:*"))
    assert keys and all(k.startswith(prefix + ":") for k in keys)
    assert storage.key("queues") in keys and storage.key("scheduled") in keys


def test_migrate_refuses_a_newer_layout(storage: RedisStorage) -> None:
    storage.client.set(storage.key("version"), 99)
    with pytest.raises(Exception, match="layout 99"):
        storage.migrate()


def test_url_settings(redis_server_url: str) -> None:
    store = RedisStorage(
        with_params(redis_server_url, prefix="p1", keep_finished="2d", socket_timeout=5)
    )
    try:
        assert store.settings.prefix == "p1"
        assert store.keep_finished == 2 * 86400
        assert "prefix" not in store.settings.url and "socket_timeout=5" in store.settings.url
    finally:
        store.close()
    with pytest.raises(Exception, match="keep_finished"):
        RedisStorage(with_params(redis_server_url, keep_finished="soon"))


def test_a_refused_command_raises_a_storage_error(storage: RedisStorage) -> None:
    storage.client.set(storage.key("queues"), "not a set")
    with pytest.raises(StorageError):
        storage.queues()


def _hset(storage: RedisStorage, job_id: str, **fields: str) -> None:
    """Change a job's hash by hand, as a buggy writer would."""
    info = storage.get(job_id)
    assert info is not None
    storage.client.hset(storage.key("job", f"{int(info.id):016d}"), mapping=fields)


def test_a_hash_with_a_bad_priority_or_run_at_never_breaks_recovery_or_retry(
    storage: RedisStorage, clock: Callable[[float], None]
) -> None:
    storage.push([job("bad"), job("worse"), job("fine")])
    storage.claim("dead-worker", ["*"], 10)
    _hset(storage, "bad", priority="high")
    _hset(storage, "worse", run_at="soon")
    clock(60)
    # Every job of the dead worker is released: one bad hash fails no script.
    assert storage.recover(stale_after=30, max_crashes=5) == (3, 0)
    claimed = storage.claim("w", ["*"], 10)
    assert sorted(c.job_id for c in claimed) == ["bad", "fine", "worse"]
    error = ErrorInfo("E", "m", "")
    storage.complete([Result(c.id, JobState.FAILED, error=error) for c in claimed])
    assert storage.retry(JobFilter(states=[JobState.FAILED])) == 3
    assert sorted(claim_ids(storage, ["*"])) == ["bad", "fine", "worse"]


def test_an_index_entry_whose_job_is_no_longer_ready_is_not_claimed(
    storage: RedisStorage,
) -> None:
    storage.push([job("moved", priority=5), job("kept")])
    # A hand-edited priority sends the discard to the wrong ready set: the job's
    # entry in its real one stays behind.
    _hset(storage, "moved", priority="7")
    assert storage.discard(JobFilter(job_ids=["moved"])) == 1
    assert claim_ids(storage, ["*"]) == ["kept"]
    assert storage.get("moved").state is JobState.DISCARDED  # type: ignore[union-attr]


def test_a_worker_info_that_is_not_json_is_listed_raw(storage: RedisStorage) -> None:
    storage.heartbeat("w", {"pid": 1})
    storage.client.hset(storage.key("worker", "w"), "info", "[" * 100_000)
    [worker] = storage.workers()
    assert worker["id"] == "w" and worker["raw"].startswith("[[[")
    assert len(worker["raw"]) < 300


def test_blocked_keys_skip_a_key_left_in_cc_waiting_and_read_past_a_chunk(
    storage: RedisStorage,
) -> None:
    import dataclasses

    from activejob.storage.concurrency import ConcurrencySlot
    from activejob.testing.contract import new_job

    def limited(key: str) -> NewJob:
        return dataclasses.replace(new_job("a"), concurrency=(ConcurrencySlot(key, 1, 600.0),))

    storage.push([limited("b/1"), limited("b/1")])
    # A key whose blocked set emptied but which the set of waiting keys still names
    # (the maintenance pass drops it later): it sorts first and fills the first chunk.
    storage.client.sadd(storage.key("cc:waiting"), "a/stale")
    [key] = storage.blocked_keys(limit=1)
    assert (key.key, key.waiting, key.limit, key.taken) == ("b/1", 1, 1, 1)


def test_a_batch_with_one_limited_job_keeps_its_limit_and_plain_ones_skip_the_cc_code(
    storage: RedisStorage,
) -> None:
    import dataclasses

    from activejob.storage.concurrency import ConcurrencySlot
    from activejob.storage.redis.scripts import source
    from activejob.testing.contract import new_job

    # push_unlimited is push.lua without its concurrency lines: none of those helpers.
    assert "cc_insert" in source("push") and "local function cc_" not in source("push_unlimited")
    slot = (ConcurrencySlot("k/1", 1, 600.0),)
    storage.push([new_job(job_id="plain-1")])
    storage.push(
        [dataclasses.replace(new_job(job_id=f"held-{n}"), concurrency=slot) for n in (1, 2)]
    )
    storage.push(
        [new_job(job_id="plain-2"), dataclasses.replace(new_job(job_id="held-3"), concurrency=slot)]
    )
    states = {n: storage.get(n).state for n in ("plain-1", "plain-2", "held-1", "held-2", "held-3")}  # type: ignore[union-attr]
    assert states == {
        "plain-1": JobState.READY,
        "plain-2": JobState.READY,
        "held-1": JobState.READY,
        "held-2": JobState.BLOCKED,
        "held-3": JobState.BLOCKED,
    }
