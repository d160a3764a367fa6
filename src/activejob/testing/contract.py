"""The storage contract: one pytest suite every :class:`~activejob.storage.base.Storage`
must pass, whoever wrote it.

Subclass :class:`StorageContract` in a module pytest collects (the class name must
start with ``Test``) and implement :meth:`~StorageContract.make_storage`; every
``test_*`` method then runs against your backend::

    from activejob.testing.contract import StorageContract

    class TestMyStorage(StorageContract):
        def make_storage(self, request):
            storage = MyStorage(...)    # empty, migrated, private to this test
            storage.migrate()
            return storage

The suite covers states and transitions, priority and queue order with
wildcards, scheduled jobs, concurrent claims, attempts, every result state in
one batch, heartbeats and recovery, paused queues, retry/discard filters,
listing, pruning and ``wait``. Time is driven by a fake clock replacing
:func:`activejob._time.now`, so a backend must take every timestamp from it.
Nothing sleeps: waits block on conditions with deadlines.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from activejob import _time
from activejob.storage.base import (
    ClaimedJob,
    ErrorInfo,
    JobFilter,
    JobState,
    NewJob,
    Result,
    Storage,
    WorkerLostError,
)

__all__ = ["FakeClock", "StorageContract", "new_job"]

S = JobState


class FakeClock:
    """Stands in for :func:`activejob._time.now`; starts at the real time.

    Example::

        clock.advance(60)   # a minute passes for the storage, none for the test
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward; returns the new time."""
        self.now += seconds
        return self.now


def new_job(
    queue: str = "default",
    priority: int = 0,
    run_at: float | None = None,
    job_class: str = "contract.Job",
    payload: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> NewJob:
    """A :class:`NewJob` with a fresh ``job_id`` and a small JSON payload."""
    job_id = job_id or str(uuid.uuid4())
    body = {"job_id": job_id, "job_class": job_class, **(payload or {})}
    return NewJob(job_id, job_class, queue, priority, json.dumps(body), run_at)


class StorageContract:
    """The shared tests. Subclasses implement :meth:`make_storage`."""

    #: How long a test waits for something that should happen at once.
    patience: float = 5.0

    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        """A new, empty, migrated storage used by one test only (closed after it)."""
        raise NotImplementedError("a StorageContract subclass must define make_storage()")

    @pytest.fixture
    def storage(self, request: pytest.FixtureRequest) -> Iterator[Storage]:
        """The storage under test."""
        storage = self.make_storage(request)
        try:
            yield storage
        finally:
            storage.close()

    @pytest.fixture
    def clock(self, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
        """A fake clock installed as ``activejob._time.now``."""
        fake = FakeClock()
        monkeypatch.setattr(_time, "now", fake)
        return fake

    # -- helpers --------------------------------------------------------------------

    def push(self, storage: Storage, *jobs: NewJob) -> list[str]:
        """Push ``jobs`` and return their ``job_id`` values."""
        storage.push(list(jobs))
        return [job.job_id for job in jobs]

    def claim_all(self, storage: Storage, queues: Sequence[str] = ("*",)) -> list[ClaimedJob]:
        """Claim every claimable job, a batch at a time."""
        claimed: list[ClaimedJob] = []
        while batch := storage.claim("worker-all", queues, 50):
            claimed.extend(batch)
        return claimed

    def state(self, storage: Storage, job_id: str) -> JobState:
        info = storage.get(job_id)
        assert info is not None, f"job {job_id} vanished"
        return info.state

    # -- pushing and reading --------------------------------------------------------

    def test_push_returns_ids_in_order_and_stores_ready_jobs(self, storage: Storage) -> None:
        jobs = [new_job(priority=i) for i in range(3)]
        ids = storage.push(jobs)
        assert len(ids) == 3 and len(set(ids)) == 3
        for job, storage_id in zip(jobs, ids, strict=True):
            info = storage.get(job.job_id)
            assert info is not None
            assert (info.id, info.job_class, info.queue_name, info.priority) == (
                storage_id,
                "contract.Job",
                "default",
                job.priority,
            )
            assert info.state is S.READY and info.attempts == 0 and info.crashes == 0
            assert info.payload == json.loads(job.payload)
            assert info.started_at is None and info.finished_at is None and info.error is None

    def test_push_of_nothing_stores_nothing(self, storage: Storage) -> None:
        assert storage.push([]) == []
        assert storage.list(JobFilter(limit=None)) == []

    def test_push_refuses_bad_jobs_and_stores_none_of_them(self, storage: Storage) -> None:
        good = new_job()
        for bad in (
            NewJob("x", "contract.Job", "", 0, "{}"),
            NewJob("x", "contract.Job", "default", 0, "not json"),
            NewJob("x", "contract.Job", "default", None, "{}"),  # type: ignore[arg-type]
        ):
            with pytest.raises(ValueError):
                storage.push([good, bad])
        assert storage.get(good.job_id) is None

    def test_get_returns_the_most_recent_row_of_a_job_id(self, storage: Storage) -> None:
        assert storage.get(str(uuid.uuid4())) is None
        first = new_job(queue="first")
        again = new_job(queue="again", job_id=first.job_id)
        storage.push([first])
        storage.push([again])
        info = storage.get(first.job_id)
        assert info is not None and info.queue_name == "again"

    def test_payload_round_trips_exactly(self, storage: Storage) -> None:
        job = new_job(payload={"text": 'é "quoted" \\ \n ✓ 😀', "n": [1, 2.5, None, True]})
        storage.push([job])
        [claimed] = storage.claim("w", ["*"], 1)
        assert claimed.payload == job.payload
        assert claimed.job_id == job.job_id and claimed.queue_name == "default"

    # -- claiming -------------------------------------------------------------------

    def test_claim_marks_jobs_running_for_the_worker(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        claimed_at = clock.advance(1)
        [claimed] = storage.claim("worker-1", ["default"], 5)
        assert claimed.attempts == 1
        info = storage.get(job_id)
        assert info is not None and info.state is S.RUNNING
        assert info.worker_id == "worker-1" and info.attempts == 1
        assert info.started_at is not None and info.started_at.timestamp() == pytest.approx(
            claimed_at, abs=0.01
        )
        assert storage.claim("worker-2", ["default"], 5) == []

    def test_claim_takes_smaller_priority_first_then_older_run_at(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        late_urgent = new_job(priority=1)
        self.push(storage, new_job(priority=5, job_class="first5"))
        clock.advance(1)
        self.push(storage, new_job(priority=5, job_class="second5"), late_urgent)
        clock.advance(1)
        claimed = storage.claim("w", ["*"], 10)
        classes = [json.loads(c.payload)["job_class"] for c in claimed]
        assert claimed[0].job_id == late_urgent.job_id
        assert classes[1:] == ["first5", "second5"]

    def test_claim_respects_the_limit(self, storage: Storage) -> None:
        self.push(storage, *(new_job() for _ in range(5)))
        assert storage.claim("w", ["*"], 0) == []
        assert len(storage.claim("w", ["*"], 3)) == 3
        assert len(storage.claim("w", ["*"], 3)) == 2
        with pytest.raises(ValueError):
            storage.claim("w", ["*"], -1)

    def test_queues_are_served_in_order_of_preference(self, storage: Storage) -> None:
        self.push(
            storage,
            new_job("low", priority=0),
            new_job("default", priority=9),
            new_job("critical", priority=50),
            new_job("default", priority=1),
        )
        claimed = storage.claim("w", ["critical,default,*"], 10)
        assert [c.queue_name for c in claimed] == ["critical", "default", "default", "low"]
        priorities = [storage.get(c.job_id).priority for c in claimed]  # type: ignore[union-attr]
        assert priorities == [50, 1, 9, 0]

    def test_a_limited_claim_takes_from_the_first_queues_first(self, storage: Storage) -> None:
        self.push(storage, new_job("other"), new_job("b"), new_job("a"))
        claimed = storage.claim("w", ["a", "b", "*"], 2)
        assert [c.queue_name for c in claimed] == ["a", "b"]

    def test_prefix_patterns_match_queue_names_that_start_with_them(self, storage: Storage) -> None:
        self.push(
            storage, new_job("mailers"), new_job("mail"), new_job("default"), new_job("xmail")
        )
        claimed = storage.claim("w", ["mail*"], 10)
        assert sorted(c.queue_name for c in claimed) == ["mail", "mailers"]
        self.push(storage, new_job("defaults"))
        assert [c.queue_name for c in storage.claim("w", ["default"], 10)] == ["default"]

    def test_bad_queue_patterns_are_refused(self, storage: Storage) -> None:
        for queues in ([], [""], ["a*b"], [" , "]):
            with pytest.raises(ValueError):
                storage.claim("w", queues, 1)

    def test_scheduled_jobs_wait_until_due(self, storage: Storage, clock: FakeClock) -> None:
        [job_id] = self.push(storage, new_job(run_at=clock.now + 60))
        assert self.state(storage, job_id) is S.SCHEDULED
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(59)
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(2)
        assert self.state(storage, job_id) is S.READY
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [job_id]
        [past] = self.push(storage, new_job(run_at=clock.now - 5))
        assert self.state(storage, past) is S.READY

    def test_concurrent_claims_never_hand_a_job_to_two_workers(self, storage: Storage) -> None:
        total = 200
        self.push(storage, *(new_job() for _ in range(total)))
        seen: list[Any] = []
        lock = threading.Lock()
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def worker(name: str) -> None:
            try:
                start.wait()
                while batch := storage.claim(name, ["*"], 3):
                    with lock:
                        seen.extend(job.id for job in batch)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, errors
        assert len(seen) == total and len(set(seen)) == total

    def test_attempts_count_claims(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        [first] = storage.claim("w", ["*"], 1)
        storage.complete([Result(first.id, S.READY)])
        [second] = storage.claim("w", ["*"], 1)
        assert (first.attempts, second.attempts) == (1, 2)
        info = storage.get(job_id)
        assert info is not None and info.attempts == 2

    # -- completing -----------------------------------------------------------------

    def test_complete_records_every_result_state_in_one_batch(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        ids = self.push(storage, *(new_job() for _ in range(5)))
        claimed = {c.job_id: c for c in storage.claim("w", ["*"], 5)}
        ok, failed, dropped, retried, released = (claimed[i] for i in ids)
        error = ErrorInfo("builtins.ValueError", "bad value", "Traceback ...")
        retry_payload = json.dumps({"job_id": retried.job_id, "executions": 1})
        finished_at = clock.advance(2)
        storage.complete(
            [
                Result(ok.id, S.SUCCEEDED),
                Result(failed.id, S.FAILED, error=error),
                Result(dropped.id, S.DISCARDED, error=error),
                Result(
                    retried.id,
                    S.SCHEDULED,
                    error=error,
                    payload=retry_payload,
                    run_at=clock.now + 30,
                    queue_name="retries",
                    priority=7,
                ),
                Result(released.id, S.READY),
            ]
        )
        infos = {i: storage.get(i) for i in ids}
        assert [infos[i].state for i in ids] == [  # type: ignore[union-attr]
            S.SUCCEEDED,
            S.FAILED,
            S.DISCARDED,
            S.SCHEDULED,
            S.READY,
        ]
        for job_id in ids[:3]:
            info = infos[job_id]
            assert info is not None and info.finished_at is not None
            assert info.finished_at.timestamp() == pytest.approx(finished_at, abs=0.01)
        assert infos[ids[1]].error == error  # type: ignore[union-attr]
        assert infos[ids[0]].error is None  # type: ignore[union-attr]
        scheduled = infos[ids[3]]
        assert scheduled is not None
        assert (scheduled.queue_name, scheduled.priority) == ("retries", 7)
        assert scheduled.payload == json.loads(retry_payload) and scheduled.error == error
        assert scheduled.finished_at is None and scheduled.worker_id is None
        assert scheduled.run_at.timestamp() == pytest.approx(clock.now + 30, abs=0.01)
        released_info = infos[ids[4]]
        assert released_info is not None and released_info.worker_id is None
        assert [c.job_id for c in storage.claim("w", ["*"], 5)] == [released.job_id]
        clock.advance(31)
        assert [c.job_id for c in storage.claim("w", ["retries"], 5)] == [retried.job_id]

    def test_complete_ignores_jobs_that_are_not_running(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        [claimed] = storage.claim("w", ["*"], 1)
        storage.complete([Result(claimed.id, S.SUCCEEDED)])
        storage.complete([Result(claimed.id, S.FAILED, error=ErrorInfo("E", "late", ""))])
        info = storage.get(job_id)
        assert info is not None and info.state is S.SUCCEEDED and info.error is None

    def test_complete_ignores_a_result_for_an_older_claim(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        [stale] = storage.claim("slow", ["*"], 1)
        clock.advance(100)
        assert storage.recover(stale_after=30, max_crashes=5) == (1, 0)
        [current] = storage.claim("fast", ["*"], 1)
        storage.complete([Result(stale.id, S.SUCCEEDED, attempts=stale.attempts)])
        assert self.state(storage, job_id) is S.RUNNING
        storage.complete([Result(current.id, S.SUCCEEDED, attempts=current.attempts)])
        assert self.state(storage, job_id) is S.SUCCEEDED

    def test_complete_refuses_bad_results(self, storage: Storage) -> None:
        self.push(storage, new_job())
        [claimed] = storage.claim("w", ["*"], 1)
        for bad in (
            [Result(claimed.id, S.RUNNING)],
            [Result(claimed.id, S.SCHEDULED)],
            [Result(claimed.id, S.SUCCEEDED), Result(claimed.id, S.FAILED)],
        ):
            with pytest.raises(ValueError):
                storage.complete(bad)
        assert self.state(storage, claimed.job_id) is S.RUNNING
        storage.complete([])

    # -- heartbeats and recovery ----------------------------------------------------

    def test_heartbeat_registers_the_worker_and_its_jobs(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        storage.claim("worker-1", ["*"], 1)
        storage.heartbeat("worker-1", {"hostname": "box", "pid": 42})
        beat = clock.advance(5)
        storage.heartbeat("worker-1")
        [worker] = storage.workers()
        assert worker["id"] == "worker-1" and worker["running"] == [job_id]
        assert (worker["hostname"], worker["pid"]) == ("box", 42)
        assert worker["heartbeat_at"].timestamp() == pytest.approx(beat, abs=0.01)
        info = storage.get(job_id)
        assert info is not None and info.heartbeat_at is not None
        assert info.heartbeat_at.timestamp() == pytest.approx(beat, abs=0.01)

    def test_unregister_worker_forgets_it(self, storage: Storage) -> None:
        storage.heartbeat("worker-1", {"pid": 1})
        storage.heartbeat("worker-2", {"pid": 2})
        storage.unregister_worker("worker-1")
        assert [w["id"] for w in storage.workers()] == ["worker-2"]

    def test_recover_releases_the_jobs_of_a_silent_worker(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        storage.heartbeat("dead", {})
        storage.claim("dead", ["*"], 1)
        clock.advance(29)
        assert storage.recover(stale_after=30, max_crashes=3) == (0, 0)
        clock.advance(2)
        assert storage.recover(stale_after=30, max_crashes=3) == (1, 0)
        info = storage.get(job_id)
        assert info is not None and info.state is S.READY
        assert info.worker_id is None and info.crashes == 1
        assert storage.workers() == []
        [again] = storage.claim("alive", ["*"], 1)
        assert again.job_id == job_id and again.attempts == 2

    def test_recover_spares_a_worker_that_heartbeats(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        storage.claim("alive", ["*"], 1)
        clock.advance(20)
        storage.heartbeat("alive", {})
        clock.advance(20)
        assert storage.recover(stale_after=30, max_crashes=3) == (0, 0)
        assert self.state(storage, job_id) is S.RUNNING

    def test_recover_fails_a_job_that_keeps_killing_its_worker(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        for _ in range(2):
            storage.claim("doomed", ["*"], 1)
            clock.advance(60)
            assert storage.recover(stale_after=30, max_crashes=2) == (1, 0)
        storage.claim("doomed", ["*"], 1)
        clock.advance(60)
        assert storage.recover(stale_after=30, max_crashes=2) == (0, 1)
        info = storage.get(job_id)
        assert info is not None and info.state is S.FAILED and info.crashes == 3
        assert info.error is not None and info.finished_at is not None
        assert info.error.exception_class.endswith(WorkerLostError.__qualname__)
        assert "max_crashes=2" in info.error.message
        assert storage.claim("w", ["*"], 1) == []

    def test_recover_refuses_nonsense(self, storage: Storage) -> None:
        with pytest.raises(ValueError):
            storage.recover(stale_after=0, max_crashes=1)
        with pytest.raises(ValueError):
            storage.recover(stale_after=10, max_crashes=-1)

    # -- queues ---------------------------------------------------------------------

    def test_a_paused_queue_is_not_claimed_from_until_resumed(self, storage: Storage) -> None:
        self.push(storage, new_job("mailers"), new_job("default"))
        storage.pause("mailers")
        storage.pause("mailers")  # idempotent
        assert [c.queue_name for c in storage.claim("w", ["mailers", "*"], 10)] == ["default"]
        assert storage.claim("w", ["mail*"], 10) == []
        storage.resume("mailers")
        assert [c.queue_name for c in storage.claim("w", ["*"], 10)] == ["mailers"]

    def test_queues_lists_counts_by_state_and_paused_flags(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, new_job("a"), new_job("a"), new_job("a", run_at=clock.now + 60))
        self.push(storage, new_job("b"))
        storage.claim("w", ["b"], 1)
        storage.pause("empty")
        queues = {q.name: q for q in storage.queues()}
        assert sorted(queues) == ["a", "b", "empty"]
        assert queues["a"].counts == {S.READY: 2, S.SCHEDULED: 1} and not queues["a"].paused
        assert queues["b"].counts == {S.RUNNING: 1}
        assert queues["empty"].paused and queues["empty"].counts == {}

    # -- operating ------------------------------------------------------------------

    def _finish(self, storage: Storage, state: JobState, queue: str, job_class: str) -> str:
        [job_id] = self.push(storage, new_job(queue, job_class=job_class))
        [claimed] = storage.claim("w", [queue], 1)
        assert claimed.job_id == job_id
        storage.complete([Result(claimed.id, state, error=ErrorInfo("E", "boom", ""))])
        return job_id

    def test_retry_makes_failed_and_discarded_jobs_ready(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        failed = self._finish(storage, S.FAILED, "a", "One")
        discarded = self._finish(storage, S.DISCARDED, "a", "One")
        other_queue = self._finish(storage, S.FAILED, "b", "One")
        other_class = self._finish(storage, S.FAILED, "a", "Two")
        succeeded = self._finish(storage, S.SUCCEEDED, "a", "One")
        assert storage.retry(JobFilter(states=[S.READY])) == 0
        assert storage.retry(JobFilter(queue_name="a", job_class="One")) == 2
        assert self.state(storage, failed) is S.READY
        assert self.state(storage, discarded) is S.READY
        info = storage.get(failed)
        assert info is not None and info.finished_at is None and info.worker_id is None
        assert self.state(storage, other_queue) is S.FAILED
        assert self.state(storage, other_class) is S.FAILED
        assert self.state(storage, succeeded) is S.SUCCEEDED
        assert storage.retry(JobFilter(job_ids=[other_class])) == 1
        assert storage.retry(JobFilter(states=[S.FAILED], limit=1)) == 1  # limit is ignored
        assert {c.job_id for c in self.claim_all(storage)} == {
            failed,
            discarded,
            other_class,
            other_queue,
        }

    def test_discard_drops_jobs_that_have_not_started(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        ready, scheduled, running = self.push(
            storage, new_job("a"), new_job("a", run_at=clock.now + 60), new_job("b")
        )
        storage.claim("w", ["b"], 1)
        failed = self._finish(storage, S.FAILED, "c", "One")
        assert storage.discard(JobFilter(states=[S.SCHEDULED])) == 1
        assert self.state(storage, scheduled) is S.DISCARDED
        assert storage.discard(JobFilter()) == 1
        assert self.state(storage, ready) is S.DISCARDED
        assert self.state(storage, running) is S.RUNNING
        assert self.state(storage, failed) is S.FAILED
        info = storage.get(ready)
        assert info is not None and info.finished_at is not None
        assert storage.claim("w", ["*"], 10) == []

    def test_list_filters_pages_and_orders_newest_first(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        ids = []
        for queue, job_class in (("a", "One"), ("b", "One"), ("a", "Two"), ("a", "One")):
            ids += self.push(storage, new_job(queue, job_class=job_class))
            clock.advance(1)
        later = self.push(storage, new_job("a", job_class="One", run_at=clock.now + 60))
        listed = [j.job_id for j in storage.list(JobFilter(limit=None))]
        assert listed == [*later, *reversed(ids)]
        assert [j.job_id for j in storage.list(JobFilter(limit=2, offset=1))] == listed[1:3]
        assert [j.job_id for j in storage.list(JobFilter(queue_name="a", job_class="One"))] == [
            later[0],
            ids[3],
            ids[0],
        ]
        assert [j.job_id for j in storage.list(JobFilter(states=[S.SCHEDULED]))] == later
        assert [j.job_id for j in storage.list(JobFilter(job_ids=[ids[1], "nope"]))] == [ids[1]]
        assert storage.list(JobFilter(states=[])) == []
        clock.advance(61)
        assert later[0] in [j.job_id for j in storage.list(JobFilter(states=[S.READY]))]
        assert storage.list(JobFilter(states=[S.SCHEDULED])) == []

    def test_prune_deletes_only_old_finished_jobs(self, storage: Storage, clock: FakeClock) -> None:
        old = self._finish(storage, S.SUCCEEDED, "q", "One")
        old_failure = self._finish(storage, S.FAILED, "q", "One")
        clock.advance(100)
        recent = self._finish(storage, S.DISCARDED, "q", "One")
        [waiting] = self.push(storage, new_job(run_at=clock.now - 1000))
        [running] = self.push(storage, new_job("r"))
        storage.claim("w", ["r"], 1)
        clock.advance(50)
        assert storage.prune(older_than=120) == 2
        assert storage.get(old) is None and storage.get(old_failure) is None
        for kept in (recent, waiting, running):
            assert storage.get(kept) is not None
        assert storage.prune(older_than=120) == 0
        with pytest.raises(ValueError):
            storage.prune(older_than=-1)
        assert storage.keep_finished > 0

    # -- waiting --------------------------------------------------------------------

    def test_wait_returns_at_once_when_a_job_is_claimable(self, storage: Storage) -> None:
        self.push(storage, new_job("default"))
        started = time.monotonic()
        assert storage.wait(["default"], timeout=30) is True
        assert time.monotonic() - started < self.patience

    def test_wait_times_out_when_nothing_is_claimable(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, new_job("other"), new_job("mine", run_at=clock.now + 3600))
        storage.pause("paused")
        self.push(storage, new_job("paused"))
        started = time.monotonic()
        assert storage.wait(["mine", "paused"], timeout=0.2) is False
        assert time.monotonic() - started >= 0.19

    def test_wait_wakes_when_a_job_is_pushed(self, storage: Storage) -> None:
        claimed: list[ClaimedJob] = []
        failures: list[BaseException] = []
        looking = threading.Event()

        def idle_worker() -> None:
            try:
                deadline = time.monotonic() + 60
                while not claimed and time.monotonic() < deadline:
                    claimed.extend(storage.claim("idle", ["wake"], 1))
                    looking.set()
                    if not claimed:
                        storage.wait(["wake"], timeout=30)
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=idle_worker)
        thread.start()
        assert looking.wait(self.patience)
        [job_id] = self.push(storage, new_job("wake"))
        thread.join(self.patience)
        alive = thread.is_alive()
        if alive:
            storage.notify_stop()
            self.push(storage, new_job("wake"))
            thread.join(self.patience)
        assert not failures, failures
        assert not alive, "wait() did not wake up for a pushed job"
        assert [c.job_id for c in claimed] == [job_id]

    def test_wait_wakes_when_a_scheduled_job_comes_due(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job("later", run_at=_time.now() + 0.3))
        started = time.monotonic()
        claimed: list[ClaimedJob] = []
        while not claimed and time.monotonic() - started < self.patience:
            if not storage.wait(["later"], timeout=30):
                break
            claimed = storage.claim("w", ["later"], 1)
        assert [c.job_id for c in claimed] == [job_id]
        assert time.monotonic() - started < self.patience

    def test_notify_stop_wakes_a_waiting_thread(self, storage: Storage) -> None:
        returned = threading.Event()
        entered = threading.Event()

        def waiter() -> None:
            entered.set()
            storage.wait(["nothing"], timeout=30)
            returned.set()

        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        assert entered.wait(self.patience)
        deadline = time.monotonic() + self.patience
        while not returned.is_set() and time.monotonic() < deadline:
            storage.notify_stop()  # repeated: the waiter may not be blocked yet
            returned.wait(0.05)
        assert returned.is_set()

    def test_waiting_blocks_again_after_notify_stop(self, storage: Storage) -> None:
        # A stopped worker must not leave the storage unable to wait: adapters are
        # shared per URL, so the next worker in this process uses the same storage.
        storage.notify_stop()
        started = time.monotonic()
        assert storage.wait(["nothing"], timeout=0.2) is False
        assert time.monotonic() - started >= 0.19

    def test_every_thread_waiting_on_a_queue_wakes_for_a_push(self, storage: Storage) -> None:
        pushed = threading.Event()
        woken: list[str] = []
        entered = [threading.Event(), threading.Event()]

        def waiter(entered: threading.Event) -> None:
            entered.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # A True may be spurious: only one that follows the push counts.
                if storage.wait(["shared"], timeout=30) and pushed.is_set():
                    woken.append(threading.current_thread().name)
                    return

        storage.wait(["shared"], timeout=0.01)  # a backend may start listening lazily
        threads = [threading.Thread(target=waiter, args=(e,), daemon=True) for e in entered]
        for thread in threads:
            thread.start()
        assert all(e.wait(self.patience) for e in entered)
        time.sleep(0.2)  # sleep-ok: both waiters must be blocked when the push comes
        pushed.set()
        self.push(storage, new_job("shared"))
        for thread in threads:
            thread.join(self.patience)
        assert len(woken) == 2, "a waiter slept through a push to its queue"

    # -- schema ---------------------------------------------------------------------

    def test_migrate_is_idempotent(self, storage: Storage) -> None:
        [job_id] = self.push(storage, new_job())
        storage.migrate()
        storage.migrate()
        assert storage.get(job_id) is not None
