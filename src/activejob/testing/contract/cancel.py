"""The storage contract: ``Storage.cancel`` (flow: cancellation, DESIGN §8).

A waiting job is discarded at once; a running one is marked for the claim it runs
under, its worker finds it with ``cancel_requests`` and a ``wait_cancel`` ends; a
job released unrun while marked (its worker died or drained) is discarded, never
run again; a finished job is left alone; an unknown id raises ``JobNotFound``.
With concurrency limits: a blocked job is discarded at once and leaves its key's
line; a cancelled job that held a slot (a ready limited job holds one) hands it
to the next blocked job in the same change.
"""

from __future__ import annotations

import threading

import pytest

from activejob.errors import JobNotFound
from activejob.storage.base import JobFilter, JobState, Result, Storage
from activejob.testing.contract.base import ContractBase, FakeClock, new_job
from activejob.testing.contract.concurrency import limited

CANCELLED = "activejob.errors.JobCancelled"


class Cancelling(ContractBase):
    """Cancel requests: atomic against claims, held for one claim, kept across a crash."""

    def test_cancel_discards_a_ready_or_scheduled_job_at_once(self, storage: Storage) -> None:
        ready, later = new_job(), new_job(run_at=4_000_000_000.0)
        self.push(storage, ready, later)
        for job, state in ((ready, JobState.READY), (later, JobState.SCHEDULED)):
            done = storage.cancel(job.job_id)
            assert (done.outcome, done.state) == ("discarded", state)
            info = self.info(storage, job.job_id)
            assert info.state is JobState.DISCARDED
            assert info.error is not None and info.error.exception_class == CANCELLED
            assert info.finished_at is not None
        assert storage.claim("w1", ["*"], 10) == []

    def test_cancel_of_a_running_job_is_a_request_its_worker_finds(self, storage: Storage) -> None:
        job, other = new_job(), new_job()
        self.push(storage, job, other)
        claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 10)}
        assert storage.cancel_requests("w1") == []
        done = storage.cancel(job.job_id)
        assert (done.outcome, done.state) == ("requested", JobState.RUNNING)
        assert storage.cancel_requests("w1") == [claimed[job.job_id].id]
        assert storage.cancel_requests("w2") == []
        info = self.info(storage, job.job_id)
        assert info.state is JobState.RUNNING and info.cancel_requested
        assert not self.info(storage, other.job_id).cancel_requested
        listed = {i.job_id: i.cancel_requested for i in storage.list(JobFilter())}
        assert listed == {job.job_id: True, other.job_id: False}
        # Asking twice changes nothing; the worker ends the job discarded.
        assert storage.cancel(job.job_id).outcome == "requested"
        c = claimed[job.job_id]
        storage.complete([Result(c.id, JobState.DISCARDED, attempts=c.attempts)])
        info = self.info(storage, job.job_id)
        assert info.state is JobState.DISCARDED and not info.cancel_requested
        assert storage.cancel_requests("w1") == []

    def test_cancel_of_a_finished_job_changes_nothing(self, storage: Storage) -> None:
        job = new_job()
        self.push(storage, job)
        [c] = storage.claim("w1", ["*"], 1)
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts)])
        done = storage.cancel(job.job_id)
        assert (done.outcome, done.state) == ("finished", JobState.SUCCEEDED)
        info = self.info(storage, job.job_id)
        assert info.state is JobState.SUCCEEDED and info.error is None

    def test_cancel_of_an_unknown_job_raises(self, storage: Storage) -> None:
        with pytest.raises(JobNotFound, match="no job with id"):
            storage.cancel("no-such-job")
        with pytest.raises(ValueError):
            storage.cancel("")

    def test_a_job_whose_worker_died_during_a_cancel_never_runs_again(
        self, storage: Storage
    ) -> None:
        job, bystander = new_job(), new_job()
        self.push(storage, job, bystander)
        claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 10)}
        storage.cancel(job.job_id)
        storage.recover_worker("w1", [claimed[job.job_id].id], max_crashes=3)
        info = self.info(storage, job.job_id)
        assert info.state is JobState.DISCARDED
        assert info.error is not None and info.error.exception_class == CANCELLED
        # The other job was released as usual, and is the only one claimed again.
        assert [c.job_id for c in storage.claim("w2", ["*"], 10)] == [bystander.job_id]

    def test_a_cancelled_job_recovered_by_heartbeat_never_runs_again(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        job = new_job()
        self.push(storage, job)
        storage.heartbeat("w1")
        storage.claim("w1", ["*"], 1)
        storage.cancel(job.job_id)
        clock.advance(120)
        storage.heartbeat("w2")
        storage.recover(stale_after=60, max_crashes=3)
        assert self.state(storage, job.job_id) is JobState.DISCARDED
        assert storage.claim("w2", ["*"], 10) == []

    def test_a_cancelled_job_released_by_a_drain_or_retried_is_discarded(
        self, storage: Storage
    ) -> None:
        released, retried = new_job(), new_job()
        self.push(storage, released, retried)
        claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 10)}
        for job in (released, retried):
            storage.cancel(job.job_id)
        r, t = claimed[released.job_id], claimed[retried.job_id]
        storage.complete(
            [
                Result(r.id, JobState.READY, attempts=r.attempts),
                Result(
                    t.id, JobState.SCHEDULED, payload=t.payload, run_at=0.0, attempts=t.attempts
                ),
            ]
        )
        assert self.state(storage, released.job_id) is JobState.DISCARDED
        assert self.state(storage, retried.job_id) is JobState.DISCARDED
        assert storage.claim("w2", ["*"], 10) == []

    def test_a_request_holds_for_the_claim_it_was_made_in(self, storage: Storage) -> None:
        job = new_job()
        self.push(storage, job)
        [c] = storage.claim("w1", ["*"], 1)
        storage.cancel(job.job_id)
        storage.complete([Result(c.id, JobState.FAILED, attempts=c.attempts)])
        assert storage.retry(JobFilter(job_ids=[job.job_id])) == 1
        [again] = storage.claim("w1", ["*"], 1)
        assert again.job_id == job.job_id
        assert storage.cancel_requests("w1") == []
        assert not self.info(storage, job.job_id).cancel_requested

    def test_cancel_and_claim_never_both_win(self, storage: Storage) -> None:
        jobs = [new_job() for _ in range(60)]
        self.push(storage, *jobs)
        claimed: list[str] = []
        outcomes: dict[str, str] = {}
        errors: list[BaseException] = []

        def claim() -> None:
            try:
                while batch := storage.claim("w1", ["*"], 3):
                    claimed.extend(c.job_id for c in batch)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=claim)
        thread.start()
        for job in jobs:
            outcomes[job.job_id] = storage.cancel(job.job_id).outcome
        thread.join(self.patience)
        assert not errors and not thread.is_alive()
        discarded = {j for j, outcome in outcomes.items() if outcome == "discarded"}
        assert discarded.isdisjoint(claimed)
        assert discarded | set(claimed) == {job.job_id for job in jobs}
        assert set(storage.cancel_requests("w1")) == {
            self.info(storage, j).id for j, outcome in outcomes.items() if outcome == "requested"
        }

    def test_a_cancel_request_wakes_a_waiting_overseer(self, storage: Storage) -> None:
        job = new_job()
        self.push(storage, job)
        storage.claim("w1", ["*"], 1)
        ready = threading.Event()
        woke: list[bool] = []

        def overseer() -> None:
            storage.wait_cancel(0.0)  # its mark: what is asked from now on wakes it
            ready.set()
            woke.append(storage.wait_cancel(self.patience))

        waiter = threading.Thread(target=overseer)
        waiter.start()
        assert ready.wait(self.patience)
        storage.cancel(job.job_id)
        waiter.join(self.patience + 1)
        assert woke == [True]

    # -- flow: cancellation of limited jobs (flow: concurrency) ------------------------

    def test_cancel_discards_a_blocked_job_which_leaves_its_keys_line(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        holder, cancelled, waiter = limited("k"), limited("k"), limited("k")
        later = limited("k", run_at=clock.now + 60)  # blocked until due, then for its slot
        self.push(storage, holder, cancelled, waiter, later)
        for job in (cancelled, later):
            assert self.state(storage, job.job_id) is JobState.BLOCKED
            done = storage.cancel(job.job_id)
            assert (done.outcome, done.state) == ("discarded", JobState.BLOCKED)
            info = self.info(storage, job.job_id)
            assert info.state is JobState.DISCARDED and info.finished_at is not None
            assert info.error is not None and info.error.exception_class == CANCELLED
        clock.advance(61)
        [c] = storage.claim("w1", ["*"], 10)
        assert c.job_id == holder.job_id
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts)])
        storage.recover(600, 3)  # the maintenance pass finds no line the cancelled stand in
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [waiter.job_id]
        assert self.state(storage, cancelled.job_id) is JobState.DISCARDED
        assert self.state(storage, later.job_id) is JobState.DISCARDED

    def test_cancel_of_a_ready_slot_holder_hands_its_slot_on_at_once(
        self, storage: Storage
    ) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder, waiter)
        assert self.state(storage, holder.job_id) is JobState.READY  # it holds the slot
        assert self.state(storage, waiter.job_id) is JobState.BLOCKED
        assert storage.cancel(holder.job_id).outcome == "discarded"
        info = self.info(storage, waiter.job_id)
        assert (info.state, info.blocked_by) == (JobState.READY, None)
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [waiter.job_id]

    def test_a_cancelled_holder_released_unrun_hands_its_slot_on(self, storage: Storage) -> None:
        drained, recovered = limited("a"), limited("b")
        waiters = {"a": limited("a"), "b": limited("b")}
        self.push(storage, drained, recovered, *waiters.values())
        claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 10)}
        assert set(claimed) == {drained.job_id, recovered.job_id}
        for job in (drained, recovered):
            assert storage.cancel(job.job_id).outcome == "requested"
        d = claimed[drained.job_id]
        storage.complete([Result(d.id, JobState.READY, attempts=d.attempts)])
        assert self.state(storage, drained.job_id) is JobState.DISCARDED
        assert self.state(storage, waiters["a"].job_id) is JobState.READY
        storage.recover_worker("w1", [claimed[recovered.job_id].id], max_crashes=3)
        assert self.state(storage, recovered.job_id) is JobState.DISCARDED
        assert self.state(storage, waiters["b"].job_id) is JobState.READY
        assert {c.job_id for c in storage.claim("w2", ["*"], 10)} == {
            w.job_id for w in waiters.values()
        }

    def test_a_cancelled_holder_retried_by_its_worker_hands_its_slot_on(
        self, storage: Storage
    ) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder, waiter)
        [c] = storage.claim("w1", ["*"], 10)
        storage.cancel(holder.job_id)
        storage.complete(
            [Result(c.id, JobState.SCHEDULED, payload=c.payload, run_at=0.0, attempts=c.attempts)]
        )
        assert self.state(storage, holder.job_id) is JobState.DISCARDED
        assert self.state(storage, waiter.job_id) is JobState.READY
