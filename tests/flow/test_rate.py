"""``rate_limit``: the decorator, keys resolved at enqueue, the sliding window, and
the in-process adapters (``test:`` records the limits, ``async:`` honours them)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

import activejob
from activejob import ConfigurationError, Job, rate_limit
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.durable import new_job
from activejob.adapters.test import TestAdapter
from activejob.flow.rate import (
    RateWindow,
    RateWindows,
    StoredLimit,
    decode_limits,
    rate_limits_of,
)


@rate_limit(10, per=timedelta(seconds=1))
@rate_limit(100, per=timedelta(minutes=1), key="smtp")
class Mail(Job):
    def perform(self, to: str) -> None: ...


@rate_limit(5, per=60, key=lambda account_id, **_: f"acct-{account_id}")
class Sync(Job):
    def perform(self, account_id: int, full: bool = False) -> None: ...


def test_stacked_limits_resolve_their_keys_at_enqueue() -> None:
    limits = rate_limits_of(Mail("a@example.com"))
    assert sorted(limits) == limits  # in key order, the order logs are locked in
    assert set(limits) == {
        StoredLimit(Mail.job_class_name, 10, 1.0),  # key None: the class name
        StoredLimit("smtp", 100, 60.0),
    }
    assert rate_limits_of(Sync(42, full=True)) == [StoredLimit("acct-42", 5, 60.0)]


def test_the_limits_are_stored_with_the_job() -> None:
    stored = new_job(Sync(7), None)
    assert decode_limits(stored.rate_limits) == [StoredLimit("acct-7", 5, 60.0)]
    assert new_job(Job(), None).rate_limits is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 1), "n >= 1"),
        ((True, 1), "n >= 1"),
        ((1.5, 1), "n >= 1"),
        ((3, timedelta(0)), "period > 0"),
        ((3, -1), "period > 0"),
        ((3, float("inf")), "period > 0"),
        ((3, 1, 42), "str or a callable"),
        ((3, 1, ""), "1 to 255 characters"),
    ],
)
def test_bad_declarations_are_refused(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        rate_limit(*args)  # type: ignore[arg-type]


def test_a_key_callable_that_fails_or_returns_nonsense_refuses_the_enqueue() -> None:
    @rate_limit(1, per=1, key=lambda **_: None)
    class NoneKey(Job):
        def perform(self) -> None: ...

    @rate_limit(1, per=1, key=lambda x: 1 / x)
    class Raises(Job):
        def perform(self, x: int) -> None: ...

    with pytest.raises(ConfigurationError, match="must return a str or an int"):
        rate_limits_of(NoneKey())
    with pytest.raises(ConfigurationError, match="ZeroDivisionError"):
        rate_limits_of(Raises(0))


def test_the_window_slides() -> None:
    windows = RateWindows({}, now=0.0)
    limit = [StoredLimit("k", 2, 10.0)]
    assert windows.admit(limit) and windows.admit(limit)
    assert not windows.admit(limit)
    assert windows.held_until(limit) == 10.0
    later = RateWindows({("k", 10.0): RateWindow(10.0, [[0.0, 1], [6.0, 1]])}, now=10.0)
    assert later.admit(limit)  # the start at 0 left the window at 10
    assert not later.admit(limit)
    assert later.held_until(limit) == 16.0


def test_a_log_stays_small_and_rounds_starts_up_never_down() -> None:
    window = RateWindow(64.0)
    for i in range(1000):
        window.record(100.0 + i * 0.01)  # ten seconds of starts
    assert window.count == 1000
    assert len(window.slots) <= 11  # one slot per second (64 s / 64)
    assert all(at >= 100.0 for at, _ in window.slots)
    window.limit = 1000
    # Full until the first slot leaves: no sooner than the first start's own time.
    until = window.full_until()
    assert until is not None and 164.0 <= until <= 165.0


def test_the_test_adapter_records_the_limits() -> None:
    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    Sync.perform_later(3)
    Sync.set(wait=60).perform_later(4)
    assert [r.rate_limits for r in adapter.enqueued_jobs] == [
        [StoredLimit("acct-3", 5, 60.0)],
        [StoredLimit("acct-4", 5, 60.0)],
    ]


STARTS: list[float] = []
_lock = threading.Lock()


@rate_limit(2, per=0.4, key="async-test")
class Quick(Job):
    def perform(self) -> None:
        with _lock:
            STARTS.append(time.monotonic())


def test_the_async_adapter_honours_the_limit_in_memory() -> None:
    STARTS.clear()
    held: list[activejob.events.Event] = []
    activejob.events.subscribe("rate_limited", held.append)
    adapter = AsyncAdapter(threads=4)
    activejob.configure(adapter=adapter)
    try:
        for _ in range(6):
            Quick.perform_later()
        adapter.join(timeout=10)
    finally:
        activejob.events.unsubscribe("rate_limited", held.append)
        adapter.shutdown()
    assert len(STARTS) == 6
    ordered = sorted(STARTS)
    # Two per 0.4 s: the fifth starts no sooner than 0.8 s after the first.
    assert ordered[4] - ordered[0] >= 0.8 - 0.02
    for i in range(len(ordered) - 2):
        assert ordered[i + 2] - ordered[i] >= 0.4 - 0.02
    assert held and held[0].extra["keys"] == ["async-test"]
