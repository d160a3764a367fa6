"""The scheduler against every durable backend: three schedulers, each run once.

Time is a fake clock (``activejob._time.now``), so a day of ticks takes a second;
the three schedulers tick at the same moments on three threads, each with its
own storage object (its own connections), racing for every run.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from activejob import _time, events
from activejob.recurring import Scheduler
from activejob.recurring.operate import run_now
from activejob.recurring.task import RecurringTask, build_task
from activejob.storage.base import JobFilter, JobState, Result, Storage
from activejob.testing.contract import FakeClock
from tests.backends import redis_support
from tests.recurring.jobs import (
    CleanupJob,
    LimitedReportJob,
    RateReportJob,
    UniqueReportJob,
    poll_feeds,
)

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url

START = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc).timestamp()

Factory = Callable[[], Storage]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def make_storage(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Builds storages on one empty store of the backend; closes them after the test."""
    made: list[Storage] = []

    if request.param == "sqlite":
        from activejob.storage.sql.sqlite import SQLiteStorage

        path: Path = request.getfixturevalue("sqlite_path")

        def build() -> Storage:
            return SQLiteStorage(path)
    elif request.param == "postgresql":
        from activejob.storage.sql.postgresql import PostgreSQLStorage

        url = request.getfixturevalue("pg_url")

        def build() -> Storage:
            return PostgreSQLStorage.from_url(url)
    elif request.param == "mysql":
        from activejob.storage.sql.mysql import MySQLStorage

        url = request.getfixturevalue("mysql_url")

        def build() -> Storage:
            return MySQLStorage.from_url(url)
    else:
        from activejob.storage.redis import RedisStorage

        url = redis_support.with_params(
            request.getfixturevalue("redis_server_url"), prefix=request.getfixturevalue("prefix")
        )

        def build() -> Storage:
            storage = RedisStorage(url)
            storage.migrate()
            return storage

    def factory() -> Storage:
        storage = build()
        if not made:  # the store made once, before storages race to make it (SQLite: locked)
            storage.migrate()
        made.append(storage)
        return storage

    yield factory
    for storage in made:
        storage.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(START)
    monkeypatch.setattr(_time, "now", fake)
    return fake


def tasks(**changes: object) -> list[RecurringTask]:
    return [
        build_task("every-10s", poll_feeds, schedule="every 10 seconds", **changes),  # type: ignore[arg-type]
        build_task("minutely", CleanupJob, schedule="* * * * *", args=(7,), **changes),  # type: ignore[arg-type]
        build_task(
            "nightly",
            CleanupJob,
            schedule="30 2 * * *",
            args=(30,),
            kwargs={"dry_run": True},
            queue="low",
            priority=5,
            timezone="America/New_York",
            **changes,  # type: ignore[arg-type]
        ),
    ]


def stored_runs(storage: Storage) -> Counter[tuple[str, str]]:
    """(task key, run time) of every stored job: the run of each, from its metadata."""
    found: Counter[tuple[str, str]] = Counter()
    for info in storage.list(JobFilter(limit=None)):
        run = info.payload["metadata"]["recurring"]
        found[(run["key"], run["run_at"])] += 1
    return found


def tick_together(schedulers: list[Scheduler]) -> None:
    """One tick of every scheduler at the same moment, on threads of their own."""
    barrier = threading.Barrier(len(schedulers))
    errors: list[BaseException] = []

    def tick(scheduler: Scheduler) -> None:
        try:
            barrier.wait(timeout=10)
            scheduler.tick()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_three_schedulers_enqueue_each_run_exactly_once(
    make_storage: Factory, clock: FakeClock, request: pytest.FixtureRequest
) -> None:
    schedulers = [Scheduler(make_storage(), tasks()) for _ in range(3)]
    observer = make_storage()
    # 10 ticks a minute (every 6 s of fake time) for the hour before New York springs
    # forward on 2026-03-08 (02:00 EST, 07:00 UTC, becomes 03:00 EDT).
    ticks, step = 600, 6.0
    expected: set[tuple[str, int]] = set()
    for _ in range(ticks):
        clock.advance(step)
        tick_together(schedulers)
        for task in schedulers[0].tasks:
            latest = task.schedule.latest(clock.now)
            if latest is not None and latest > START:
                expected.add((task.key, latest))
    runs = stored_runs(observer)
    duplicates = sum(count - 1 for count in runs.values())
    per_task = Counter(key for key, _ in runs)
    print(
        f"\n[recurring dedup] backend={request.node.callspec.params['make_storage']} "
        f"schedulers=3 ticks={ticks} (x3 = {3 * ticks} tick calls) runs={sum(runs.values())} "
        f"expected={len(expected)} duplicates={duplicates} per_task={dict(per_task)}"
    )
    assert duplicates == 0
    assert len(runs) == len(expected)
    # An hour: every 10 s, every minute, and the 02:30 New York run that the clocks
    # skip that night, once at 03:00 EDT (07:00 UTC).
    assert per_task["every-10s"] == ticks * step // 10
    assert per_task["minutely"] == ticks * step // 60
    assert [run_at for key, run_at in runs if key == "nightly"] == ["2026-03-08T07:00:00+00:00"]
    nightly = next(i for i in observer.list(JobFilter(limit=None)) if i.job_class.endswith("Job")
                   and i.payload["metadata"]["recurring"]["key"] == "nightly")  # fmt: skip
    assert (nightly.queue_name, nightly.priority) == ("low", 5)
    assert nightly.payload["arguments"] == [30] and nightly.payload["kwargs"] == {"dry_run": True}


def test_after_downtime_only_the_latest_missed_run_is_enqueued(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    first = Scheduler(storage, tasks())
    first.tick()  # declares the tasks
    clock.advance(61)
    assert {run.key for run in first.tick()} == {"every-10s", "minutely"}
    # Every scheduler down for two hours (720 runs of every-10s, 120 of minutely
    # and the nightly one fell due meanwhile); a new one starts.
    clock.advance(2 * 3600)
    catch_up = Scheduler(make_storage(), tasks()).tick()
    assert sorted(run.key for run in catch_up) == ["every-10s", "minutely", "nightly"]
    for run in catch_up:
        assert run.run_at == next(t for t in tasks() if t.key == run.key).schedule.latest(clock.now)
    assert sum(stored_runs(storage).values()) == 5


def test_catch_up_none_skips_runs_missed_while_down(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    Scheduler(storage, tasks(catch_up="none")).tick()
    clock.advance(2 * 3600 + 35)  # the latest runs fell 5 s and 35 s ago: missed
    late = Scheduler(make_storage(), tasks(catch_up="none"))
    assert late.tick() == []
    clock.advance(25)  # the next minute is on time
    assert {run.key for run in late.tick()} == {"every-10s", "minutely"}


def test_pause_and_resume_reach_every_scheduler_at_its_next_tick(
    make_storage: Factory, clock: FakeClock
) -> None:
    schedulers = [Scheduler(make_storage(), tasks()) for _ in range(3)]
    operator = make_storage()
    tick_together(schedulers)
    assert operator.pause_recurring("minutely")
    for _ in range(5):
        clock.advance(60)
        tick_together(schedulers)
    assert not any(key == "minutely" for key, _ in stored_runs(operator))
    assert operator.resume_recurring("minutely")
    tick_together(schedulers)  # runs that fell while paused are not caught up
    assert not any(key == "minutely" for key, _ in stored_runs(operator))
    clock.advance(60)
    tick_together(schedulers)
    assert sum(1 for key, _ in stored_runs(operator) if key == "minutely") == 1


def test_a_task_removed_from_the_code_stops_and_is_listed_as_orphaned(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    Scheduler(storage, tasks()).tick()
    # Deployed again without "minutely": the new schedulers do not run it.
    kept = [task for task in tasks() if task.key != "minutely"]
    new = Scheduler(make_storage(), kept, declare_every=60)
    for _ in range(6):
        clock.advance(60)
        new.tick()
    assert not any(key == "minutely" for key, _ in stored_runs(storage))
    orphaned = {t.key: t.orphaned for t in storage.recurring_tasks()}
    assert orphaned == {"every-10s": False, "minutely": True, "nightly": False}


def test_each_stored_run_is_an_event(make_storage: Factory, clock: FakeClock) -> None:
    seen: list[events.Event] = []
    events.subscribe("enqueue_recurring", seen.append)
    try:
        schedulers = [Scheduler(make_storage(), tasks()) for _ in range(3)]
        tick_together(schedulers)
        clock.advance(60)
        tick_together(schedulers)
    finally:
        events.unsubscribe("enqueue_recurring", seen.append)
    assert sorted(e.extra["task_key"] for e in seen) == ["every-10s", "minutely"]
    assert all(e.job is not None and e.job.provider_job_id for e in seen)


# -- flow control: a recurring run passes the gates of perform_later ---------------------


def report_task(job_class: type) -> list[RecurringTask]:
    return [build_task("report", job_class, schedule="every 10 seconds")]


def by_state(storage: Storage) -> dict[JobState, int]:
    return dict(Counter(info.state for info in storage.list(JobFilter(limit=None))))


def test_a_recurring_unique_job_is_skipped_while_its_run_holds_the_key(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    seen: list[events.Event] = []
    events.subscribe("duplicate", seen.append)
    try:
        schedulers = [Scheduler(make_storage(), report_task(UniqueReportJob)) for _ in range(2)]
        tick_together(schedulers)  # declares the task: its runs start after this
        clock.advance(10)
        tick_together(schedulers)
        [held] = storage.list(JobFilter(limit=None))
        clock.advance(10)
        tick_together(schedulers)  # the run is due; the first still holds the key
    finally:
        events.unsubscribe("duplicate", seen.append)
    assert by_state(storage) == {JobState.READY: 1}
    assert [e.extra["duplicate_of"] for e in seen] == [held.job_id]
    [claimed] = storage.claim("w1", ["*"], 10)
    storage.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)])
    clock.advance(10)
    assert [run.key for run in schedulers[0].tick()] == ["report"]
    assert by_state(storage) == {JobState.SUCCEEDED: 1, JobState.READY: 1}


def test_a_recurring_limited_job_waits_blocked_for_the_running_one(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    scheduler = Scheduler(storage, report_task(LimitedReportJob))
    scheduler.tick()  # declares the task: its runs start after this
    clock.advance(10)
    scheduler.tick()
    [first] = storage.claim("w1", ["*"], 10)
    clock.advance(10)
    [second] = scheduler.tick()
    info = storage.get(second.job_id)
    assert info is not None and (info.state, info.blocked_by) == (
        JobState.BLOCKED,
        f"{LimitedReportJob.job_class_name}/report",
    )
    storage.complete([Result(first.id, JobState.SUCCEEDED, attempts=first.attempts)])
    assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [second.job_id]


def test_a_recurring_rate_limited_job_starts_when_its_window_frees(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    scheduler = Scheduler(storage, report_task(RateReportJob))
    scheduler.tick()  # declares the task: its runs start after this
    clock.advance(10)
    scheduler.tick()
    assert len(storage.claim("w1", ["*"], 10)) == 1
    clock.advance(10)
    [second] = scheduler.tick()
    assert storage.claim("w1", ["*"], 10) == []
    clock.advance(51)
    assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [second.job_id]


def test_a_manual_run_passes_the_gates_when_the_class_is_known(
    make_storage: Factory, clock: FakeClock
) -> None:
    storage = make_storage()
    Scheduler(storage, report_task(UniqueReportJob) + limited_task()).tick()  # declares
    first = run_now(storage, "report")
    assert first is not None and first.duplicate_of is None
    again = run_now(storage, "report")
    assert again is not None and again.duplicate_of == first.job_id
    assert again.job_id == first.job_id and str(again.storage_id) == str(first.storage_id)
    assert by_state(storage) == {JobState.READY: 1}
    runs = [run_now(storage, "limited") for _ in range(2)]
    states = [storage.get(run.job_id).state for run in runs if run]  # type: ignore[union-attr]
    assert states == [JobState.READY, JobState.BLOCKED]


def limited_task() -> list[RecurringTask]:
    return [build_task("limited", LimitedReportJob, schedule="every 10 seconds")]


def test_sql_prunes_old_runs_with_finished_jobs(sqlite_path: Path, clock: FakeClock) -> None:
    from activejob.storage.sql.sqlite import SQLiteStorage
    from activejob.testing.contract import new_job

    storage = SQLiteStorage(sqlite_path)
    old, recent = int(clock.now) - 8 * 86400, int(clock.now) - 3600
    assert storage.enqueue_recurring("t", old, new_job())
    assert storage.enqueue_recurring("t", recent, new_job())
    storage.prune(storage.keep_finished)
    # The old run's key is gone (it may be stored again), the recent one's is kept.
    assert storage.enqueue_recurring("t", old, new_job()) is not None
    assert storage.enqueue_recurring("t", recent, new_job()) is None
    storage.close()


@pytest.mark.redis
def test_redis_run_keys_expire_with_finished_jobs(
    redis_server_url: str, prefix: str, clock: FakeClock
) -> None:
    from activejob.storage.redis import RedisStorage
    from activejob.testing.contract import new_job

    storage = RedisStorage(redis_support.with_params(redis_server_url, prefix=prefix))
    try:
        assert storage.enqueue_recurring("t", int(clock.now), new_job())
        [key] = storage.client.keys(storage.key("recurring:run:*"))
        assert 0 < storage.client.ttl(key) <= max(int(storage.keep_finished), 86400)
    finally:
        storage.close()
