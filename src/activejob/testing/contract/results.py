"""The storage contract: completing claimed jobs, heartbeats and recovery."""

from __future__ import annotations

import json

import pytest

from activejob.storage.base import (
    ErrorInfo,
    JobState,
    Result,
    Storage,
    WorkerLostError,
)
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

S = JobState


class ResultsAndRecovery(ContractBase):
    """Completing claimed jobs, heartbeats and the recovery of dead workers' jobs."""

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
        infos = {i: self.info(storage, i) for i in ids}
        assert [infos[i].state for i in ids] == [
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
        assert infos[ids[1]].error == error
        assert infos[ids[0]].error is None
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

    def test_a_batch_of_successes_skips_only_the_stale_one_and_keeps_each_claim(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [first] = self.push(storage, new_job())
        [stale] = storage.claim("slow", ["*"], 1)
        clock.advance(100)
        assert storage.recover(stale_after=30, max_crashes=5) == (1, 0)
        ids = [first, *self.push(storage, new_job(), new_job())]
        claimed = {c.job_id: c for c in storage.claim("fast", ["*"], 3)}
        current, second, third = (claimed[i] for i in ids)
        finished_at = clock.advance(2)
        storage.complete(
            [
                Result(stale.id, S.SUCCEEDED, attempts=stale.attempts),
                Result(second.id, S.SUCCEEDED, attempts=second.attempts),
                Result(third.id, S.SUCCEEDED),
            ]
        )
        assert [self.state(storage, i) for i in ids] == [S.RUNNING, S.SUCCEEDED, S.SUCCEEDED]
        for job_id in ids[1:]:
            info = self.info(storage, job_id)
            assert info.worker_id == "fast" and info.attempts == 1 and info.error is None
            assert info.finished_at is not None and info.started_at is not None
            assert info.finished_at.timestamp() == pytest.approx(finished_at, abs=0.01)
        storage.complete([Result(current.id, S.SUCCEEDED, attempts=current.attempts)])
        assert self.state(storage, first) is S.SUCCEEDED

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
