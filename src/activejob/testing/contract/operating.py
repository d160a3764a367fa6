"""The storage contract: paused queues, counts, retry, discard, listing and pruning."""

from __future__ import annotations

import pytest

from activejob.storage.base import (
    ErrorInfo,
    JobFilter,
    JobState,
    Result,
    Storage,
)
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

S = JobState


class Operating(ContractBase):
    """Paused queues, counts, retry, discard, listing and pruning."""

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
        # The last error stays until the job runs again, as for a retry_on wait: the
        # operator still sees why it had failed.
        assert info.error is not None and info.error.message == "boom"
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

    def test_discard_drops_waiting_and_failed_jobs(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        ready, scheduled, running = self.push(
            storage, new_job("a"), new_job("a", run_at=clock.now + 60), new_job("b")
        )
        storage.claim("w", ["b"], 1)
        failed = self._finish(storage, S.FAILED, "c", "One")
        succeeded = self._finish(storage, S.SUCCEEDED, "c", "One")
        assert storage.discard(JobFilter(states=[S.SCHEDULED])) == 1
        assert self.state(storage, scheduled) is S.DISCARDED
        assert storage.discard(JobFilter()) == 2
        assert self.state(storage, ready) is S.DISCARDED
        assert self.state(storage, failed) is S.DISCARDED
        assert self.state(storage, running) is S.RUNNING
        assert self.state(storage, succeeded) is S.SUCCEEDED
        info = storage.get(ready)
        assert info is not None and info.finished_at is not None
        assert storage.claim("w", ["*"], 10) == []
        assert storage.discard(JobFilter()) == 0

    def test_discard_by_id_takes_a_failed_job_and_keeps_its_error(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        failed = self._finish(storage, S.FAILED, "c", "One")
        other = self._finish(storage, S.FAILED, "c", "One")
        clock.advance(10)
        assert storage.discard(JobFilter(job_ids=[failed])) == 1
        info = storage.get(failed)
        assert info is not None and info.state is S.DISCARDED
        assert info.error == ErrorInfo("E", "boom", "")
        assert info.finished_at is not None and info.finished_at.timestamp() >= clock.now - 1
        assert [j.job_id for j in storage.list(JobFilter(states=[S.FAILED]))] == [other]
        assert [j.job_id for j in storage.list(JobFilter(states=[S.DISCARDED]))] == [failed]
        assert storage.retry(JobFilter(job_ids=[failed])) == 1
        assert self.state(storage, failed) is S.READY

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

    def test_a_job_id_prefix_matches_exactly_with_no_wildcards(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        names = ["ab%_1", "ab%_2", "abXY3", "AB%_4", "a*b?[c]\\5", "a*bz6", "zab%_7"]
        for name in names:
            self.push(storage, new_job("a", job_id=name))

        def listed(prefix: str, **more: object) -> set[str]:
            where = JobFilter(job_id_prefix=prefix, limit=None, **more)  # type: ignore[arg-type]
            return {j.job_id for j in storage.list(where)}

        assert listed("ab%_") == {"ab%_1", "ab%_2"}  # % and _ are not wildcards
        assert listed("ab") == {"ab%_1", "ab%_2", "abXY3"}  # case-sensitive
        assert listed("a*b?[c]\\") == {"a*b?[c]\\5"}  # nor are * ? [ ] \
        assert listed("a*b") == {"a*b?[c]\\5", "a*bz6"}
        assert listed("nothing") == set()
        assert listed("ab", job_ids=["ab%_2", "AB%_4", "zab%_7"]) == {"ab%_2"}
        assert listed("ab", states=[S.SCHEDULED]) == set()
        assert len(storage.list(JobFilter(job_id_prefix="ab", limit=2))) == 2
        assert storage.discard(JobFilter(job_id_prefix="ab%_")) == 2
        assert self.state(storage, "ab%_1") is S.DISCARDED
        assert self.state(storage, "abXY3") is S.READY
        assert storage.retry(JobFilter(job_id_prefix="ab%_1")) == 1
        assert self.state(storage, "ab%_1") is S.READY
        assert self.state(storage, "ab%_2") is S.DISCARDED
        with pytest.raises(ValueError):
            storage.list(JobFilter(job_id_prefix=""))
