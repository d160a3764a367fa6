"""The storage contract: recovering the jobs of a worker process known to be dead."""

from __future__ import annotations

import pytest

from activejob.storage.base import JobState, Storage, WorkerLostError
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

S = JobState


class WorkerCrashes(ContractBase):
    """:meth:`Storage.recover_worker`: a crash only for the jobs the dead worker had
    started; the ones it had merely claimed go back unharmed."""

    def test_recover_worker_charges_only_the_started_jobs(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        poison, *good = self.push(storage, *(new_job(priority=n) for n in range(3)))
        storage.heartbeat("dead", {"pid": 1})
        claimed = {c.job_id: c for c in storage.claim("dead", ["*"], 3)}
        assert storage.recover_worker("dead", [claimed[poison].id], max_crashes=3) == (3, 0)
        infos = [storage.get(job_id) for job_id in (poison, *good)]
        assert [(i.state, i.crashes, i.worker_id) for i in infos if i] == [
            (S.READY, 1, None),
            (S.READY, 0, None),
            (S.READY, 0, None),
        ]
        assert storage.workers() == []
        again = storage.claim("alive", ["*"], 3)
        assert sorted(c.job_id for c in again) == sorted((poison, *good))

    def test_recover_worker_fails_a_started_job_past_max_crashes(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        poison, good = self.push(storage, new_job(priority=0), new_job(priority=1))
        for crash in (1, 2):
            claimed = {c.job_id: c for c in storage.claim(f"dead-{crash}", ["*"], 2)}
            released = storage.recover_worker(f"dead-{crash}", [claimed[poison].id], 1)
            assert released == ((2, 0) if crash == 1 else (1, 1))
        info = storage.get(poison)
        assert info is not None and (info.state, info.crashes) == (S.FAILED, 2)
        assert info.error is not None and info.finished_at is not None
        assert info.error.exception_class.endswith(WorkerLostError.__qualname__)
        assert "max_crashes=1" in info.error.message
        kept = storage.get(good)
        assert kept is not None and (kept.state, kept.crashes, kept.attempts) == (S.READY, 0, 2)
        [last] = storage.claim("alive", ["*"], 2)
        assert last.job_id == good

    def test_recover_worker_leaves_jobs_other_workers_hold(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        mine, theirs = self.push(storage, new_job(priority=0), new_job(priority=1))
        [held] = storage.claim("dead", ["*"], 1)
        [other] = storage.claim("alive", ["*"], 1)
        assert (held.job_id, other.job_id) == (mine, theirs)
        # The other worker's id among the started ids changes nothing for it.
        assert storage.recover_worker("dead", [held.id, other.id], 3) == (1, 0)
        assert self.state(storage, theirs) is S.RUNNING
        info = storage.get(theirs)
        assert info is not None and (info.worker_id, info.crashes) == ("alive", 0)

    def test_recover_worker_after_a_heartbeat_recovery_does_nothing(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [job_id] = self.push(storage, new_job())
        storage.heartbeat("dead", {})
        [claimed] = storage.claim("dead", ["*"], 1)
        clock.advance(60)
        assert storage.recover(stale_after=30, max_crashes=3) == (1, 0)
        [again] = storage.claim("alive", ["*"], 1)
        # Released already and claimed again elsewhere: a late (or second) call for
        # the dead worker must not touch it.
        assert storage.recover_worker("dead", [claimed.id], 3) == (0, 0)
        assert storage.recover_worker("dead", [claimed.id], 3) == (0, 0)
        info = storage.get(job_id)
        assert info is not None and (info.state, info.worker_id) == (S.RUNNING, "alive")
        assert (info.crashes, again.attempts) == (1, 2)

    def test_recover_worker_refuses_nonsense(self, storage: Storage) -> None:
        with pytest.raises(ValueError):
            storage.recover_worker("", [], 3)
        with pytest.raises(ValueError):
            storage.recover_worker("w", [], -1)
        with pytest.raises(TypeError):
            storage.recover_worker("w", "17", 3)
