"""The storage contract: rate limits (``flow.rate``), enforced at claim time."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from activejob import events
from activejob.flow.rate import GRAIN, StoredLimit, encode_limits
from activejob.storage.base import JobState, NewJob, Result, Storage
from activejob.testing.contract.base import ContractBase, FakeClock, new_job


def limited(*limits: tuple[str, int, float], **fields: Any) -> NewJob:
    """A new job carrying rate limits ``(key, n, per)``."""
    stored = sorted(StoredLimit(key, n, float(per)) for key, n, per in limits)
    return replace(new_job(**fields), rate_limits=encode_limits(stored))


class RateLimits(ContractBase):
    """At most n starts per sliding window per (key, per), across claimers."""

    def test_at_most_n_jobs_of_a_key_start_per_window(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        ids = self.push(storage, *(limited(("api", 2, 60)) for _ in range(5)))
        first = storage.claim("w1", ["*"], 10)
        assert [c.job_id for c in first] == ids[:2]
        assert storage.claim("w2", ["*"], 10) == []
        assert self.state(storage, ids[2]) is JobState.READY  # waits as ready
        clock.advance(59.9)
        assert storage.claim("w2", ["*"], 10) == []
        clock.advance(0.2 + 60 / GRAIN)  # a log may round a start up by per / GRAIN
        assert [c.job_id for c in storage.claim("w2", ["*"], 10)] == ids[2:4]

    def test_a_unique_job_keeps_its_rate_limits(self, storage: Storage, clock: FakeClock) -> None:
        """Unique jobs go in through their own insert: the limits must go in with them."""
        ids = [
            self.push(storage, replace(limited(("api", 1, 60)), unique_key=f"u{i}"))[0]
            for i in range(2)
        ]
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == ids[:1]
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(61 + 60 / GRAIN)
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == ids[1:]

    def test_the_window_slides_rather_than_resets(self, storage: Storage, clock: FakeClock) -> None:
        ids = self.push(storage, *(limited(("api", 2, 10)) for _ in range(4)))
        assert len(storage.claim("w", ["*"], 1)) == 1  # t=0
        clock.advance(6)
        assert len(storage.claim("w", ["*"], 1)) == 1  # t=6: the window is full
        clock.advance(5)  # t=11: the t=0 start left the window, the t=6 one did not
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [ids[2]]
        clock.advance(4.5)  # t=15.5: still full (t=6 and t=11 are within 10 s)
        assert storage.claim("w", ["*"], 10) == []
        clock.advance(1)
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [ids[3]]

    def test_unlimited_jobs_and_other_keys_are_not_held_up(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, *(limited(("a", 1, 60), priority=0) for _ in range(30)))
        others = self.push(storage, limited(("b", 1, 60), priority=5), new_job(priority=9))
        first = storage.claim("w", ["*"], 3)
        assert len(first) == 3
        assert others[0] in {c.job_id for c in first}
        assert others[1] in {c.job_id for c in first}
        assert storage.claim("w", ["*"], 10) == []

    def test_stacked_limits_must_all_have_room(self, storage: Storage, clock: FakeClock) -> None:
        ids = self.push(storage, *(limited(("s", 1, 1), ("s", 3, 60)) for _ in range(5)))
        started = []
        for _ in range(10):
            started += [c.job_id for c in storage.claim("w", ["*"], 10)]
            clock.advance(1.05)
        assert started == ids[:3]  # one per second, then the minute quota is spent
        clock.advance(60)
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [ids[3]]

    def test_jobs_of_other_classes_with_the_same_key_share_the_limit(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, limited(("smtp", 2, 60), job_class="a.Mail"))
        self.push(storage, limited(("smtp", 2, 60), job_class="b.Digest"))
        self.push(storage, limited(("smtp", 2, 60), job_class="b.Digest"))
        self.push(storage, limited(("smtp", 2, 30)))  # another period: another log
        assert len(storage.claim("w", ["*"], 10)) == 3

    def test_queues_are_respected(self, storage: Storage, clock: FakeClock) -> None:
        self.push(storage, limited(("q", 5, 60), queue="mail"))
        [mine] = self.push(storage, limited(("q", 5, 60), queue="reports"))
        assert [c.job_id for c in storage.claim("w", ["reports"], 10)] == [mine]
        storage.pause("mail")
        assert storage.claim("w", ["mail*"], 10) == []

    def test_every_start_counts_retries_too(self, storage: Storage, clock: FakeClock) -> None:
        [first, second] = self.push(storage, *(limited(("r", 2, 60)) for _ in range(2)))
        [claimed] = storage.claim("w", ["*"], 1)
        assert claimed.job_id == first
        retry = Result(
            claimed.id,
            JobState.SCHEDULED,
            payload=claimed.payload,
            run_at=clock.now,
            attempts=claimed.attempts,
        )
        storage.complete([retry])
        [again] = storage.claim("w", ["*"], 10)  # the retry and `second` compete
        assert again.job_id in (first, second)
        assert storage.claim("w", ["*"], 10) == []

    def test_concurrent_claimers_never_exceed_the_limit(
        self, storage: Storage, request: pytest.FixtureRequest, clock: FakeClock
    ) -> None:
        self.push(storage, *(limited(("c", 7, 60)) for _ in range(40)))
        storages = [storage, *(self.make_storage(request) for _ in range(3))]
        got: list[str] = []
        failures: list[BaseException] = []
        barrier = threading.Barrier(len(storages))

        def claimer(mine: Storage, n: int) -> None:
            try:
                barrier.wait(self.patience)
                for _ in range(5):
                    got.extend(c.job_id for c in mine.claim(f"w{n}", ["*"], 3))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=claimer, args=(s, n)) for n, s in enumerate(storages)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(self.patience * 4)
        finally:
            for extra in storages[1:]:
                extra.close()
        assert not failures
        assert len(got) == 7 == len(set(got))

    def test_a_held_job_says_until_when(self, storage: Storage, clock: FakeClock) -> None:
        ids = self.push(storage, *(limited(("h", 1, 60)) for _ in range(2)))
        assert self.info(storage, ids[1]).rate_limited_until is None  # not known full yet
        storage.claim("w", ["*"], 10)
        storage.claim("w", ["*"], 10)
        held = self.info(storage, ids[1])
        assert held.state is JobState.READY
        assert held.rate_limited_until is not None
        # A log may round a start up by per / GRAIN: the job waits that much longer.
        assert -0.01 <= held.rate_limited_until.timestamp() - (clock.now + 60) <= 60 / GRAIN + 0.01
        assert self.info(storage, ids[0]).rate_limited_until is None  # it runs
        clock.advance(61)
        assert self.info(storage, ids[1]).rate_limited_until is None

    def test_a_held_job_emits_rate_limited(self, storage: Storage, clock: FakeClock) -> None:
        ids = self.push(storage, *(limited(("e", 1, 60)) for _ in range(2)))
        seen: list[events.Event] = []
        events.subscribe("rate_limited", seen.append)
        try:
            storage.claim("w", ["*"], 10)
        finally:
            events.unsubscribe("rate_limited", seen.append)
        assert [e.extra["job_id"] for e in seen] == [ids[1]]
        assert seen[0].extra["keys"] == ["e"]
        assert -0.01 <= seen[0].extra["until"].timestamp() - (clock.now + 60) <= 60 / GRAIN + 0.01

    def test_wait_sleeps_while_only_held_jobs_wait(
        self, storage: Storage, clock: FakeClock
    ) -> None:
        self.push(storage, *(limited(("w", 1, 60)) for _ in range(2)))
        assert len(storage.claim("w", ["*"], 10)) == 1
        assert storage.claim("w", ["*"], 10) == []
        # A worker's loop: wait, claim. While only the held job waits, wait sleeps (one
        # spurious wake-up allowed: a listener connecting says "look again" once).
        wakes = 0
        deadline = time.monotonic() + 0.3
        while (left := deadline - time.monotonic()) > 0:
            if storage.wait(["*"], timeout=left):
                wakes += 1
                assert storage.claim("w", ["*"], 10) == []
        assert wakes <= 1
        clock.advance(61)
        started = time.monotonic()
        assert storage.wait(["*"], timeout=30) is True
        assert time.monotonic() - started < self.patience
        assert len(storage.claim("w", ["*"], 10)) == 1

    def test_a_recurring_run_keeps_its_limits(self, storage: Storage, clock: FakeClock) -> None:
        first, second = limited(("cron", 1, 60)), limited(("cron", 1, 60))
        assert storage.enqueue_recurring("nightly", 1_767_236_400, first) is not None
        assert storage.enqueue_recurring("nightly", 1_767_236_460, second) is not None
        assert [c.job_id for c in storage.claim("w", ["*"], 10)] == [first.job_id]
