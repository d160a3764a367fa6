"""``limits_concurrency`` in process: the decorator, the keys it computes at enqueue,
the ``test:`` adapter (records) and the ``async:`` adapter (honours, in memory)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

import activejob
from activejob import Job, events, limits_concurrency
from activejob.adapters.asyncpool import AsyncAdapter
from activejob.adapters.test import TestAdapter
from activejob.flow.concurrency import concurrency_slots
from activejob.storage.base import JobState
from activejob.storage.concurrency import ConcurrencySlot
from tests.support import wait_for


@limits_concurrency(to=1, key=lambda account_id, **_: account_id, duration=timedelta(minutes=15))
class ChargeJob(Job):
    def perform(self, account_id: int, cents: int) -> None: ...


@limits_concurrency(to=3, key="smtp", group="mail")
@limits_concurrency(to=1, key=lambda user, **_: f"user-{user}", duration=60)
class MailJob(Job):
    def perform(self, user: int, *, subject: str = "") -> None: ...


def test_the_key_is_the_class_name_and_the_callable_given_perform_arguments_by_name() -> None:
    [slot] = concurrency_slots(ChargeJob(42, 100))
    assert slot == ConcurrencySlot(f"{ChargeJob.job_class_name}/42", 1, 900.0, "block")
    assert concurrency_slots(ChargeJob(account_id=7, cents=1))[0].key.endswith("/7")


def test_stacked_limits_give_a_slot_each_and_a_group_shares_one_key() -> None:
    slots = {slot.key: slot for slot in concurrency_slots(MailJob(5, subject="hi"))}
    assert slots == {
        "mail/smtp": ConcurrencySlot("mail/smtp", 3, 180.0, "block"),
        f"{MailJob.job_class_name}/user-5": ConcurrencySlot(
            f"{MailJob.job_class_name}/user-5", 1, 60.0, "block"
        ),
    }


def test_a_subclass_adds_limits_without_changing_its_parent() -> None:
    @limits_concurrency(to=2)
    class Stricter(ChargeJob):
        pass

    assert len(concurrency_slots(Stricter(1, 2))) == 2
    assert len(concurrency_slots(ChargeJob(1, 2))) == 1
    assert {s.key for s in concurrency_slots(Stricter(1, 2))} >= {Stricter.job_class_name}


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"to": 0}, ValueError),
        ({"to": 1.5}, ValueError),
        ({"to": 1, "duration": 0}, ValueError),
        ({"to": 1, "on_conflict": "skip"}, ValueError),
        ({"to": 1, "key": 42}, TypeError),
        ({"to": 1, "group": ""}, ValueError),
    ],
)
def test_bad_options_are_refused_at_declaration(options: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        limits_concurrency(**options)  # type: ignore[arg-type]


def test_a_key_callable_that_gives_no_str_or_int_fails_the_enqueue_clearly() -> None:
    @limits_concurrency(to=1, key=lambda **_: None)
    class Keyless(Job):
        def perform(self, x: int) -> None: ...

    activejob.configure(adapter="test:")
    with pytest.raises(TypeError, match="key must give a str or an int, got NoneType"):
        Keyless.perform_later(1)


def test_the_test_adapter_records_the_slots_a_job_would_need() -> None:
    adapter = TestAdapter()
    activejob.configure(adapter=adapter)
    ChargeJob.perform_later(42, 100)
    ChargeJob.perform_later(42, 200)
    assert [r.concurrency[0].key for r in adapter.enqueued_jobs] == [
        f"{ChargeJob.job_class_name}/42"
    ] * 2


RUNNING: dict[str, int] = {}
MOST: dict[str, int] = {}
ORDER: list[str] = []
LOCK = threading.Lock()
GATE = threading.Event()


@limits_concurrency(to=2, key=lambda key, **_: key)
class Counted(Job):
    def perform(self, key: str, tag: str, hold: float = 0.02) -> None:
        with LOCK:
            RUNNING[key] = RUNNING.get(key, 0) + 1
            MOST[key] = max(MOST.get(key, 0), RUNNING[key])
            ORDER.append(tag)
        if tag == "holder":
            GATE.wait(10)
        else:
            threading.Event().wait(hold)  # busy for a while
        with LOCK:
            RUNNING[key] -= 1


@pytest.fixture
def pool() -> AsyncAdapter:
    RUNNING.clear(), MOST.clear(), ORDER.clear(), GATE.clear()
    adapter = AsyncAdapter(threads=8)
    activejob.configure(adapter=adapter)
    return adapter


def test_the_async_adapter_runs_at_most_n_per_key(pool: AsyncAdapter) -> None:
    for i in range(10):
        Counted.perform_later("a", f"a{i}")
        Counted.perform_later("b", f"b{i}")
    pool.join(timeout=20)
    assert MOST == {"a": 2, "b": 2}
    assert len(ORDER) == 20


@limits_concurrency(to=1, key="serial")
class Serial(Job):
    def perform(self, tag: str) -> None:
        ORDER.append(tag)
        if tag == "holder":
            GATE.wait(10)


def test_the_async_adapter_releases_blocked_jobs_by_priority_then_fifo(
    pool: AsyncAdapter,
) -> None:
    seen: list[events.Event] = []
    events.subscribe("unblock", seen.append)
    try:
        Serial.perform_later("holder")
        wait_for(lambda: ORDER == ["holder"])
        Serial.set(priority=5).perform_later("low")
        Serial.perform_later("first")
        Serial.perform_later("second")
        GATE.set()
        pool.join(timeout=10)
    finally:
        events.unsubscribe("unblock", seen.append)
    assert ORDER == ["holder", "first", "second", "low"]
    assert len(seen) == 3


def test_the_async_adapter_discards_with_on_conflict_discard() -> None:
    gate = threading.Event()
    ran: list[int] = []

    @limits_concurrency(to=1, on_conflict="discard")
    class Once(Job):
        def perform(self, n: int) -> None:
            ran.append(n)
            gate.wait(10)

    adapter = AsyncAdapter(threads=2)
    activejob.configure(adapter=adapter)
    seen: list[events.Event] = []
    events.subscribe("block", seen.append)
    try:
        Once.perform_later(1)
        Once.perform_later(2)
    finally:
        events.unsubscribe("block", seen.append)
    gate.set()
    adapter.join(timeout=10)
    assert ran == [1]
    assert [(e.extra["key"], e.extra["discarded"]) for e in seen] == [(Once.job_class_name, True)]


def test_jobstate_blocked_is_not_finished() -> None:
    assert JobState("blocked") is JobState.BLOCKED and not JobState.BLOCKED.finished
