"""The storage contract: pages of jobs by cursor, filters, the oldest ready job,
the jobs finished per minute and the keys blocked jobs wait for (what the
dashboard and the CLI browse)."""

from __future__ import annotations

import dataclasses

from activejob.storage.base import ErrorInfo, JobFilter, JobState, NewJob, Result, Storage
from activejob.storage.browse import JobQuery
from activejob.storage.concurrency import ConcurrencySlot
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

S = JobState


class Browsing(ContractBase):
    """``Storage.browse``, ``QueueInfo.oldest_ready_at`` and ``Storage.activity``."""

    def _pages(self, storage: Storage, query: JobQuery) -> list[list[str]]:
        """Every page of ``query``, following the cursor to the end."""
        pages = []
        while True:
            page = storage.browse(query)
            pages.append([job.job_id for job in page.jobs])
            if page.next_before is None:
                return pages
            query = dataclasses.replace(query, before=page.next_before)

    def test_browse_pages_newest_first_by_cursor(self, storage: Storage) -> None:
        ids = self.push(storage, *(new_job("a") for _ in range(7)))
        self.push(storage, new_job("b"))
        pages = self._pages(storage, JobQuery(state=S.READY, queue_name="a", limit=3))
        assert pages == [ids[6:3:-1], ids[3:0:-1], ids[:1]]
        [everything] = self._pages(storage, JobQuery(limit=20))
        assert len(everything) == 8

    def test_a_last_full_page_has_no_next_cursor(self, storage: Storage) -> None:
        ids = self.push(storage, *(new_job("a") for _ in range(4)))
        pages = self._pages(storage, JobQuery(state=S.READY, limit=2))
        assert pages == [ids[3:1:-1], ids[1::-1]]

    def test_a_due_scheduled_job_is_browsed_as_ready(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [soon, later] = self.push(
            storage, new_job("a", run_at=clock.now + 10), new_job("a", run_at=clock.now + 99)
        )
        [ready] = self.push(storage, new_job("a"))
        clock.advance(20)

        def found(state: JobState | None) -> set[str]:
            return {job.job_id for job in storage.browse(JobQuery(state=state)).jobs}

        assert found(S.READY) == {soon, ready}
        assert found(S.SCHEDULED) == {later}
        assert found(None) == {soon, later, ready}

    def test_browse_filters_by_class_error_time_and_text(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        [old] = self.push(storage, new_job("a", job_class="app.Mail", payload={"to": "ann@x"}))
        clock.advance(100)
        [new] = self.push(storage, new_job("a", job_class="app.Mail", payload={"to": "bob@x"}))
        [other] = self.push(storage, new_job("a", job_class="app.Sync"))
        claimed = {c.job_id: c for c in storage.claim("w", ["a"], 10)}
        storage.complete(
            [
                Result(claimed[new].id, S.FAILED, error=ErrorInfo("app.Timeout", "slow", "")),
                Result(claimed[other].id, S.FAILED, error=ErrorInfo("app.Bug", "bad", "")),
                Result(claimed[old].id, S.SUCCEEDED),
            ]
        )

        def found(**filters: object) -> list[str]:
            page = storage.browse(JobQuery(**filters))  # type: ignore[arg-type]
            return [job.job_id for job in page.jobs]

        assert found(job_class="app.Mail") == [new, old]
        assert found(state=S.FAILED, error_class="app.Timeout") == [new]
        assert found(text="ann@x") == [old]
        assert found(created_after=clock.now - 50) == [other, new]
        assert found(created_before=clock.now - 50) == [old]
        assert found(state=S.FAILED, job_class="app.Mail", text="nobody") == []

    def test_a_search_reads_a_bounded_window_and_goes_on_from_its_end(
        self, storage: Storage
    ) -> None:
        [rare] = self.push(storage, new_job("a", job_class="app.Rare"))
        self.push(storage, *(new_job("a") for _ in range(6)))
        query = JobQuery(job_class="app.Rare", limit=1, scan=3)
        first = storage.browse(query)
        assert first.jobs == [] and first.window_full and first.next_before is not None
        pages = self._pages(storage, query)
        assert len(pages) > 1 and [job for page in pages for job in page] == [rare]

    def test_queues_know_their_oldest_ready_job(self, storage: Storage, clock: FakeClock) -> None:
        start = clock.now
        self.push(storage, new_job("a", priority=5))
        clock.advance(30)
        self.push(storage, new_job("a", priority=0), new_job("b", run_at=clock.now + 60))
        queues = {q.name: q for q in storage.queues()}
        oldest = queues["a"].oldest_ready_at
        assert oldest is not None and abs(oldest.timestamp() - start) < 0.01
        assert queues["b"].oldest_ready_at is None

    def test_activity_counts_jobs_finished_per_minute(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, *(new_job("a") for _ in range(3)))
        claimed = storage.claim("w", ["a"], 3)
        storage.complete([Result(claimed[0].id, S.SUCCEEDED)])
        clock.advance(120)
        storage.complete(
            [Result(c.id, S.FAILED, error=ErrorInfo("E", "x", "")) for c in claimed[1:]]
        )
        activity = storage.activity(minutes=10)
        assert len(activity.finished) == 10 and sum(activity.finished) == 3
        assert activity.finished[-1] == 2 and activity.finished[-3] == 1
        assert activity.failed is not None  # every backend splits the failures out
        assert activity.failed[-1] == 2 and sum(activity.failed) == 2
        # A failed job retried is no longer a failure in the chart; one discarded neither.
        failed = [c.job_id for c in claimed[1:]]
        storage.retry(JobFilter(job_ids=failed[:1], limit=None))
        storage.discard(JobFilter(job_ids=failed[1:], limit=None))
        after = storage.activity(minutes=10)
        assert after.failed is not None and sum(after.failed) == 0

    def test_blocked_keys_count_waiters_and_name_slot_holders(self, storage: Storage) -> None:
        def limited(key: str, limit: int) -> NewJob:
            return dataclasses.replace(
                new_job("a"), concurrency=(ConcurrencySlot(key, limit, 600.0),)
            )

        holders = [limited("k/1", 2), limited("k/1", 2)]
        waiting = [limited("k/1", 2) for _ in range(3)]
        other = [limited("k/2", 1), limited("k/2", 1)]
        self.push(storage, *holders, *waiting, *other, new_job("a"))
        keys = storage.blocked_keys()
        assert [(k.key, k.waiting, k.capped, k.limit, k.taken) for k in keys] == [
            ("k/1", 3, False, 2, 2),
            ("k/2", 1, False, 1, 1),
        ]
        assert set(keys[0].holders) == {job.job_id for job in holders}
        assert keys[1].holders == [other[0].job_id]
        assert [k.key for k in storage.blocked_keys(limit=1)] == ["k/1"]
        blocked = storage.browse(JobQuery(state=S.BLOCKED)).jobs
        assert {job.blocked_by for job in blocked} == {"k/1", "k/2"} and len(blocked) == 4

    def test_no_blocked_jobs_no_keys(self, storage: Storage) -> None:
        self.push(storage, new_job("a"))
        assert storage.blocked_keys() == []
