"""The storage contract: concurrency limits (``limits_concurrency``), the state
``blocked``, and slots freed by completion, recovery and their ``duration``."""

from __future__ import annotations

import dataclasses
from typing import Any

from activejob import events
from activejob.storage.base import (
    ClaimedJob,
    ErrorInfo,
    JobFilter,
    JobState,
    NewJob,
    Result,
    Storage,
)
from activejob.storage.concurrency import DISCARD_CLASS, ConcurrencySlot
from activejob.testing.contract.base import ContractBase, FakeClock, new_job


def limited(*keys: str, limit: int = 1, duration: float = 600.0, **fields: Any) -> NewJob:
    """A job limited by each of ``keys`` (``limit`` slots each)."""
    on_conflict = fields.pop("on_conflict", "block")
    slots = tuple(ConcurrencySlot(key, limit, duration, on_conflict) for key in keys)
    return dataclasses.replace(new_job(**fields), concurrency=slots)


class ConcurrencyLimits(ContractBase):
    """Slots granted at push, freed when their job finishes, handed on in order."""

    def finish(self, storage: Storage, job_id: str, state: JobState = JobState.SUCCEEDED) -> None:
        """Claim what is ready (kept running) and complete ``job_id``'s claim."""
        running: dict[str, ClaimedJob] = self.__dict__.setdefault("_running", {})
        running.update((c.job_id, c) for c in self.claim_all(storage))
        claimed = running.pop(job_id)
        storage.complete([Result(claimed.id, state, attempts=claimed.attempts)])

    def test_a_job_over_the_limit_is_blocked_by_its_key(self, storage: Storage) -> None:
        first, second, third = (
            limited("k/1", limit=2),
            limited("k/1", limit=2),
            limited("k/1", limit=2),
        )
        other = limited("k/2", limit=2)
        self.push(storage, first, second, third, other)
        assert self.state(storage, first.job_id) is JobState.READY
        assert self.state(storage, second.job_id) is JobState.READY
        info = self.info(storage, third.job_id)
        assert (info.state, info.blocked_by) == (JobState.BLOCKED, "k/1")
        assert self.state(storage, other.job_id) is JobState.READY
        claimed = {c.job_id for c in self.claim_all(storage)}
        assert claimed == {first.job_id, second.job_id, other.job_id}
        blocked = storage.list(JobFilter(states=[JobState.BLOCKED]))
        assert [b.job_id for b in blocked] == [third.job_id]
        counts = {q.name: q.counts for q in storage.queues()}["default"]
        assert counts[JobState.BLOCKED] == 1

    def test_a_freed_slot_readies_the_next_blocked_job_at_once(self, storage: Storage) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder)
        [claimed] = storage.claim("w1", ["*"], 10)
        self.push(storage, waiter)
        assert self.state(storage, waiter.job_id) is JobState.BLOCKED
        assert storage.claim("w1", ["*"], 10) == []
        storage.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)])
        info = self.info(storage, waiter.job_id)
        assert (info.state, info.blocked_by) == (JobState.READY, None)
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [waiter.job_id]

    def test_blocked_jobs_are_released_by_priority_then_first_enqueued(
        self, storage: Storage
    ) -> None:
        holder = limited("k")
        low, first, second = limited("k", priority=5), limited("k"), limited("k")
        self.push(storage, holder, low, first, second)
        order = []
        current = holder.job_id
        for _ in range(4):
            order.append(current)
            self.finish(storage, current)
            ready = [i.job_id for i in storage.list(JobFilter(states=[JobState.READY]))]
            assert len(ready) <= 1
            if not ready:
                break
            current = ready[0]
        assert order == [holder.job_id, first.job_id, second.job_id, low.job_id]

    def test_every_terminal_result_frees_the_slot(self, storage: Storage) -> None:
        error = ErrorInfo("builtins.ValueError", "bad", "")
        for state in (JobState.FAILED, JobState.DISCARDED):
            holder, waiter = limited("k"), limited("k")
            self.push(storage, holder, waiter)
            [claimed] = storage.claim("w1", ["*"], 10)
            storage.complete([Result(claimed.id, state, error=error, attempts=claimed.attempts)])
            assert self.state(storage, waiter.job_id) is JobState.READY
            self.finish(storage, waiter.job_id)

    def test_a_retry_frees_the_slot_and_waits_blocked_until_due(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder, waiter)
        [claimed] = storage.claim("w1", ["*"], 10)
        storage.complete(
            [
                Result(
                    claimed.id,
                    JobState.SCHEDULED,
                    payload=claimed.payload,
                    run_at=clock.now + 30,
                    attempts=claimed.attempts,
                )
            ]
        )
        assert self.state(storage, waiter.job_id) is JobState.READY
        assert self.state(storage, holder.job_id) is JobState.BLOCKED
        [again] = storage.claim("w1", ["*"], 10)
        assert again.job_id == waiter.job_id
        clock.advance(31)
        # Due, but the slot is taken: it waits, then takes the slot its waiter frees.
        assert storage.claim("w1", ["*"], 10) == []
        storage.complete([Result(again.id, JobState.SUCCEEDED, attempts=again.attempts)])
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [holder.job_id]

    def test_a_job_scheduled_for_later_takes_its_slot_when_due(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        later = limited("k", run_at=clock.now + 60)
        self.push(storage, later)
        assert self.state(storage, later.job_id) is JobState.BLOCKED
        clock.advance(61)
        storage.recover(60, 3)  # the maintenance pass hands out the idle key's slot
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [later.job_id]

    def test_stacked_limits_need_a_slot_of_each(self, storage: Storage) -> None:
        account, region = limited("account/1"), limited("region/eu")
        both = limited("account/2", "region/eu")
        self.push(storage, account, region, both)
        info = self.info(storage, both.job_id)
        assert (info.state, info.blocked_by) == (JobState.BLOCKED, "region/eu")
        self.finish(storage, account.job_id)
        assert self.state(storage, both.job_id) is JobState.BLOCKED
        self.finish(storage, region.job_id)
        assert self.state(storage, both.job_id) is JobState.READY
        # Now it holds account/2 and region/eu: both block newcomers.
        blocked = [limited("account/2"), limited("region/eu")]
        self.push(storage, *blocked)
        assert {self.state(storage, j.job_id) for j in blocked} == {JobState.BLOCKED}

    def test_on_conflict_discard_discards_instead_of_blocking(self, storage: Storage) -> None:
        holder = limited("k", on_conflict="discard")
        extra = limited("k", on_conflict="discard")
        self.push(storage, holder, extra)
        info = self.info(storage, extra.job_id)
        assert info.state is JobState.DISCARDED
        assert info.error is not None and info.error.exception_class == DISCARD_CLASS
        assert "'k'" in info.error.message
        assert self.state(storage, holder.job_id) is JobState.READY

    def test_a_dead_holder_keeps_its_slot_to_run_again_then_frees_it(
        self, storage: Storage
    ) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder, waiter)
        [claimed] = storage.claim("dead", ["*"], 10)
        storage.recover_worker("dead", [claimed.id], max_crashes=3)
        # At-least-once: the recovered holder runs again first, on its slot.
        assert self.state(storage, holder.job_id) is JobState.READY
        assert self.state(storage, waiter.job_id) is JobState.BLOCKED
        [again] = storage.claim("w2", ["*"], 10)
        assert again.job_id == holder.job_id
        # The stale result of the dead claim frees nothing.
        storage.complete([Result(claimed.id, JobState.SUCCEEDED, attempts=claimed.attempts)])
        assert self.state(storage, waiter.job_id) is JobState.BLOCKED
        storage.complete([Result(again.id, JobState.SUCCEEDED, attempts=again.attempts)])
        assert self.state(storage, waiter.job_id) is JobState.READY

    def test_a_holder_failed_by_recovery_frees_its_slot(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        holder, waiter = limited("k"), limited("k")
        self.push(storage, holder, waiter)
        storage.claim("dead", ["*"], 10)
        clock.advance(120)
        assert storage.recover(60, max_crashes=0) == (0, 1)
        assert self.state(storage, holder.job_id) is JobState.FAILED
        assert self.state(storage, waiter.job_id) is JobState.READY

    def test_a_slot_is_reclaimed_after_its_duration(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        holder, waiter = limited("k", duration=30), limited("k", duration=30)
        self.push(storage, holder, waiter)
        storage.claim("w1", ["*"], 10)
        storage.heartbeat("w1")
        clock.advance(29)
        storage.recover(600, 3)
        assert self.state(storage, waiter.job_id) is JobState.BLOCKED
        clock.advance(2)
        storage.heartbeat("w1")  # the holder's worker is alive, its slot expired anyway
        storage.recover(600, 3)
        assert self.state(storage, waiter.job_id) is JobState.READY

    def test_a_retried_limited_job_never_runs_without_its_slot(self, storage: Storage) -> None:
        failed, holder = limited("k"), limited("k")
        self.push(storage, failed)
        self.finish(storage, failed.job_id, JobState.FAILED)
        self.push(storage, holder)
        assert storage.retry(JobFilter(job_ids=[failed.job_id])) == 1
        assert self.state(storage, failed.job_id) is JobState.BLOCKED
        self.finish(storage, holder.job_id)
        assert self.state(storage, failed.job_id) is JobState.READY

    def test_blocked_jobs_can_be_discarded_and_a_discarded_holder_frees_its_slot(
        self, storage: Storage
    ) -> None:
        holder, first, second = limited("k"), limited("k"), limited("k")
        self.push(storage, holder, first, second)
        assert storage.discard(JobFilter(job_ids=[first.job_id])) == 1
        assert self.state(storage, first.job_id) is JobState.DISCARDED
        assert storage.discard(JobFilter(job_ids=[holder.job_id])) == 1
        assert self.state(storage, second.job_id) is JobState.READY

    def test_unlimited_jobs_are_untouched(self, storage: Storage) -> None:
        plain = [new_job() for _ in range(3)]
        self.push(storage, *plain)
        claimed = storage.claim("w1", ["*"], 10)
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
        assert {self.state(storage, j.job_id) for j in plain} == {JobState.SUCCEEDED}

    def test_block_and_unblock_events(self, storage: Storage) -> None:
        seen: list[events.Event] = []
        events.subscribe("block", seen.append)
        events.subscribe("unblock", seen.append)
        try:
            holder, waiter = limited("k"), limited("k")
            self.push(storage, holder, waiter)
            self.finish(storage, holder.job_id)
        finally:
            events.unsubscribe("block", seen.append)
            events.unsubscribe("unblock", seen.append)
        assert [(e.name, e.extra.get("job_id"), e.extra.get("key")) for e in seen[:1]] == [
            ("block", waiter.job_id, "k")
        ]
        assert seen[1].name == "unblock" and seen[1].extra["job_ids"] == [waiter.job_id]
