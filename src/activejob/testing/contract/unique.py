"""The storage contract: unique jobs (flow: unique).

A unique job's key is held while :func:`activejob.flow.unique.holds_key` says so;
a second job with that key is refused (:class:`~activejob.storage.base.Duplicate`),
or, with ``replace``, moves its payload and run time into a waiting holder. Eight
threads with their own storages race the same keys: exactly one job per key is
stored.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest

from activejob.storage.base import Duplicate, JobFilter, JobState, NewJob, Result, Storage
from activejob.testing.contract.base import ContractBase, FakeClock, new_job

__all__ = ["UniqueKeys"]

S = JobState


def unique_job(
    key: str = "contract.Job:k",
    until: str = "finished",
    within: float | None = None,
    on_conflict: str = "skip",
    **kwargs: Any,
) -> NewJob:
    """A :class:`NewJob` with a unique key."""
    return dataclasses.replace(
        new_job(**kwargs),
        unique_key=key,
        unique_until=until,
        unique_within=within,
        unique_on_conflict=on_conflict,
    )


class UniqueKeys(ContractBase):
    """Unique keys: held by state, or for ``within``; skip, replace; races."""

    def stored(self, storage: Storage) -> list[str]:
        return sorted(info.job_id for info in storage.list(JobFilter(limit=None)))

    def test_a_second_job_with_the_key_is_refused(self, storage: Storage) -> None:
        first, second, other = unique_job(), unique_job(), unique_job(key="contract.Job:o")
        [first_id] = storage.push([first])
        assert not isinstance(first_id, Duplicate)
        [refused] = storage.push([second])
        assert refused == Duplicate(first.job_id, refused.id)
        assert str(refused.id) == str(first_id) and not refused.replaced
        [other_id] = storage.push([other])
        assert not isinstance(other_id, Duplicate)
        assert self.stored(storage) == sorted([first.job_id, other.job_id])
        info = self.info(storage, first.job_id)
        assert info.unique_key == "contract.Job:k" and info.unique_held is True
        plain = new_job()
        storage.push([plain])
        assert self.info(storage, plain.job_id).unique_key is None

    def test_until_started_frees_the_key_at_the_claim(self, storage: Storage) -> None:
        first = unique_job(until="started")
        storage.push([first])
        assert isinstance(storage.push([unique_job(until="started")])[0], Duplicate)
        [claimed] = storage.claim("w", ["*"], 1)
        assert self.info(storage, first.job_id).unique_held is False
        later = unique_job(until="started")
        assert not isinstance(storage.push([later])[0], Duplicate)
        storage.complete([Result(claimed.id, S.SUCCEEDED, attempts=claimed.attempts)])
        assert self.info(storage, later.job_id).unique_held is True

    def test_until_finished_holds_through_running_and_retries(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = unique_job()
        storage.push([first])
        [claimed] = storage.claim("w", ["*"], 1)
        assert isinstance(storage.push([unique_job()])[0], Duplicate)
        retry = Result(
            claimed.id, S.SCHEDULED, payload=first.payload, run_at=clock.now + 60, attempts=1
        )
        storage.complete([retry])
        assert isinstance(storage.push([unique_job()])[0], Duplicate)
        clock.advance(61)
        [again] = storage.claim("w", ["*"], 1)
        storage.complete([Result(again.id, S.FAILED, attempts=again.attempts)])
        assert self.info(storage, first.job_id).unique_held is False
        after = unique_job()
        assert not isinstance(storage.push([after])[0], Duplicate)

    def test_success_and_discard_free_the_key(self, storage: Storage) -> None:
        first = unique_job()
        storage.push([first])
        [claimed] = storage.claim("w", ["*"], 1)
        storage.complete([Result(claimed.id, S.SUCCEEDED, attempts=claimed.attempts)])
        second = unique_job()
        assert not isinstance(storage.push([second])[0], Duplicate)
        assert storage.discard(JobFilter(job_ids=[second.job_id])) == 1
        third = unique_job()
        assert not isinstance(storage.push([third])[0], Duplicate)
        assert self.state(storage, third.job_id) is S.READY

    def test_a_recovered_job_still_holds_an_until_finished_key(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = unique_job()
        storage.push([first])
        storage.heartbeat("dead", {})
        storage.claim("dead", ["*"], 1)
        clock.advance(31)
        assert storage.recover(stale_after=30, max_crashes=3) == (1, 0)
        assert self.state(storage, first.job_id) is S.READY
        assert isinstance(storage.push([unique_job()])[0], Duplicate)
        [again] = storage.claim("alive", ["*"], 1)
        assert isinstance(storage.push([unique_job()])[0], Duplicate)
        storage.complete([Result(again.id, S.SUCCEEDED, attempts=again.attempts)])
        assert not isinstance(storage.push([unique_job()])[0], Duplicate)

    def test_a_job_failed_by_recovery_frees_its_key(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = unique_job()
        storage.push([first])
        storage.heartbeat("dead", {})
        storage.claim("dead", ["*"], 1)
        clock.advance(31)
        assert storage.recover(stale_after=30, max_crashes=0) == (0, 1)
        assert not isinstance(storage.push([unique_job()])[0], Duplicate)

    def test_within_holds_the_key_for_that_long_whatever_the_state(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = unique_job(within=3600)
        storage.push([first])
        [claimed] = storage.claim("w", ["*"], 1)
        storage.complete([Result(claimed.id, S.SUCCEEDED, attempts=claimed.attempts)])
        assert isinstance(storage.push([unique_job(within=3600)])[0], Duplicate)
        info = self.info(storage, first.job_id)
        assert info.unique_held is True and info.unique_expires_at is not None
        clock.advance(3601)
        assert self.info(storage, first.job_id).unique_held is False
        later = unique_job(within=3600)
        assert not isinstance(storage.push([later])[0], Duplicate)
        clock.advance(3601)  # expired while still waiting: the key is free
        assert not isinstance(storage.push([unique_job(within=3600)])[0], Duplicate)

    def test_replace_moves_payload_and_run_time_into_the_waiting_job(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        first = unique_job(on_conflict="replace", payload={"arguments": [1]})
        storage.push([first])
        newer = unique_job(on_conflict="replace", payload={"arguments": [2]}, run_at=clock.now + 30)
        [result] = storage.push([newer])
        assert result == Duplicate(first.job_id, result.id, replaced=True)
        info = self.info(storage, first.job_id)
        assert info.payload["arguments"] == [2] and info.payload["job_id"] == first.job_id
        assert info.state is S.SCHEDULED
        assert abs(info.run_at.timestamp() - (clock.now + 30)) < 0.01
        assert storage.get(newer.job_id) is None
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(31)
        [claimed] = storage.claim("w", ["*"], 10)
        assert claimed.job_id == first.job_id
        assert json.loads(claimed.payload)["arguments"] == [2]
        # A running holder cannot be replaced: the new job is a duplicate.
        [late] = storage.push([unique_job(on_conflict="replace", payload={"arguments": [3]})])
        assert late == Duplicate(first.job_id, late.id, replaced=False)

    def test_bulk_push_honours_keys_within_one_batch(self, storage: Storage) -> None:
        a1, a2, b, plain = (
            unique_job(key="k:a"),
            unique_job(key="k:a"),
            unique_job(key="k:b"),
            (new_job()),
        )
        ids = storage.push([a1, plain, a2, b])
        assert [isinstance(i, Duplicate) for i in ids] == [False, False, True, False]
        assert ids[2].job_id == a1.job_id
        assert self.stored(storage) == sorted([a1.job_id, plain.job_id, b.job_id])

    def test_eight_racing_enqueuers_store_one_job_per_key(
        self, storage: Storage, request: pytest.FixtureRequest
    ) -> None:
        racers = [storage, *(self.make_storage(request) for _ in range(7))]
        keys = [f"race:{i}" for i in range(10)]
        barrier = threading.Barrier(len(racers))
        stored: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def race(racer: Storage) -> None:
            try:
                barrier.wait(timeout=self.patience)
                for key in keys:
                    job = unique_job(key=key)
                    [result] = racer.push([job])
                    if not isinstance(result, Duplicate):
                        with lock:
                            stored.append(key)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=race, args=(racer,)) for racer in racers]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=self.patience * 6)
        finally:
            for extra in racers[1:]:
                extra.close()
        assert not errors, errors
        assert sorted(stored) == sorted(keys)
        infos = storage.list(JobFilter(limit=None))
        assert sorted(i.unique_key or "" for i in infos) == sorted(keys)
