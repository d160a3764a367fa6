"""The storage contract: pushing, reading and claiming (order, limits, patterns, schedules)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest

from activejob.storage.base import (
    JobFilter,
    JobState,
    NewJob,
    Result,
    Storage,
)
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

S = JobState


class PushingAndClaiming(ContractBase):
    """Pushing, reading and claiming: ids, payloads, order, limits, patterns, schedules."""

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
        priorities = [self.info(storage, c.job_id).priority for c in claimed]
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
