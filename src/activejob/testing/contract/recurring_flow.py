"""The storage contract: a run of a recurring task goes through the same flow-control
gates as any pushed job (DESIGN §8, §9).

``enqueue_recurring`` stores the run once, and its job is then treated as ``push``
treats it: a limited job waits ``blocked`` for a slot (or is discarded with
``on_conflict="discard"``), a unique job whose key another job holds is not stored
(a :class:`~activejob.storage.base.Duplicate` names the holder, and the run still
counts as enqueued), a rate-limited job starts only when its window has room.
"""

from __future__ import annotations

from activejob.storage.base import Duplicate, JobState, Result, Storage
from activejob.storage.concurrency import DISCARD_CLASS
from activejob.testing.contract import concurrency, rate
from activejob.testing.contract.base import ContractBase, FakeClock
from activejob.testing.contract.unique import unique_job

__all__ = ["RecurringFlowControl"]

RUN_AT = 1_767_236_400  # 2026-01-01 03:00:00 UTC


class RecurringFlowControl(ContractBase):
    """Concurrency limits, unique keys and rate limits hold for recurring runs."""

    def test_a_recurring_run_of_a_limited_job_waits_for_its_slot(self, storage: Storage) -> None:
        holder, run = concurrency.limited("k"), concurrency.limited("k")
        self.push(storage, holder)
        assert storage.enqueue_recurring("nightly", RUN_AT, run) is not None
        info = self.info(storage, run.job_id)
        assert (info.state, info.blocked_by) == (JobState.BLOCKED, "k")
        [c] = storage.claim("w1", ["*"], 10)
        assert c.job_id == holder.job_id
        storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts)])
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [run.job_id]

    def test_a_recurring_run_over_a_discarding_limit_is_discarded(self, storage: Storage) -> None:
        holder = concurrency.limited("k", on_conflict="discard")
        run = concurrency.limited("k", on_conflict="discard")
        self.push(storage, holder)
        assert storage.enqueue_recurring("nightly", RUN_AT, run) is not None
        info = self.info(storage, run.job_id)
        assert info.state is JobState.DISCARDED
        assert info.error is not None and info.error.exception_class == DISCARD_CLASS

    def test_a_recurring_run_of_a_held_unique_key_is_not_stored(self, storage: Storage) -> None:
        holder, run = unique_job(), unique_job()
        [holder_id] = storage.push([holder])
        refused = storage.enqueue_recurring("nightly", RUN_AT, run)
        assert isinstance(refused, Duplicate)
        assert (refused.job_id, str(refused.id)) == (holder.job_id, str(holder_id))
        assert storage.get(run.job_id) is None
        # The run counts as enqueued: a second scheduler does not store it either.
        assert storage.enqueue_recurring("nightly", RUN_AT, unique_job()) is None

    def test_a_recurring_run_of_a_unique_job_holds_its_key(self, storage: Storage) -> None:
        run, later = unique_job(), unique_job()
        stored = storage.enqueue_recurring("nightly", RUN_AT, run)
        assert stored is not None and not isinstance(stored, Duplicate)
        assert self.state(storage, run.job_id) is JobState.READY
        [refused] = storage.push([later])
        assert isinstance(refused, Duplicate) and refused.job_id == run.job_id
        next_run = storage.enqueue_recurring("nightly", RUN_AT + 86400, unique_job())
        assert isinstance(next_run, Duplicate) and next_run.job_id == run.job_id

    def test_a_recurring_run_of_a_rate_limited_job_waits_for_its_window(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = rate.limited(("smtp", 1, 60))
        run = rate.limited(("smtp", 1, 60))
        self.push(storage, first)
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [first.job_id]
        assert storage.enqueue_recurring("nightly", RUN_AT, run) is not None
        assert storage.claim("w1", ["*"], 10) == []
        clock.advance(61)
        assert [c.job_id for c in storage.claim("w1", ["*"], 10)] == [run.job_id]
