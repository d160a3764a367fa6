"""The ``test:`` adapter: recording, performing on request or as enqueued, outcomes."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest

import activejob
from activejob import DeserializationError, Job, retry_on
from activejob.adapters.test import RecordedJob, TestAdapter

ran: list[Any] = []


class Flaky(Exception):
    pass


class Parent(Job):
    def perform(self, n: int) -> None:
        ran.append(("parent", n))
        Child.perform_later(n)


class Child(Job):
    queue_as = "children"
    priority = 7

    def perform(self, n: int) -> None:
        ran.append(("child", n))


class Boom(Job):
    def perform(self) -> None:
        raise LookupError("boom")


@retry_on(Flaky, wait=30, attempts=3, jitter=0)
class Retried(Job):
    def perform(self) -> None:
        ran.append("retried")
        raise Flaky


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    ran.clear()


@pytest.fixture
def adapter() -> TestAdapter:
    test_adapter = TestAdapter()
    activejob.configure(adapter=test_adapter)
    return test_adapter


def test_records_payloads_after_a_json_round_trip(adapter: TestAdapter) -> None:
    Child.perform_later(1)
    Child.set(wait=60, queue="later").perform_later((2, 3))
    first, second = adapter.enqueued_jobs
    assert first.job_class == "tests.unit.test_testing_adapter.Child"
    assert first.queue_name == "children" and first.priority == 7 and first.at is None
    assert first.args == (1,) and first.kwargs == {} and first.executions == 0
    assert second.payload["arguments"] == [{"_aj": "tuple", "v": [2, 3]}]
    assert second.args == ((2, 3),) and second.queue_name == "later"
    assert second.at is not None and second.scheduled_at is not None
    assert second.scheduled_at.tzinfo is timezone.utc
    assert abs(second.scheduled_at.timestamp() - second.at) < 1e-6
    assert (first.enqueued_index, second.enqueued_index) == (0, 1)
    assert not first.performed and ran == []


def test_job_builds_a_fresh_instance_with_arguments(adapter: TestAdapter) -> None:
    enqueued = Child.perform_later(5)
    recorded = adapter.enqueued_jobs[0]
    built = recorded.job()
    assert isinstance(built, Child) and built is not enqueued and built is not recorded.job()
    assert built.job_id == enqueued.job_id and built.arguments == (5,)


def test_unreadable_arguments_raise_where_they_are_read(adapter: TestAdapter) -> None:
    recorded = RecordedJob({**Child(1).serialize(), "arguments": [{"_aj": "nope", "v": 1}]})
    with pytest.raises(DeserializationError):
        _ = recorded.args


def test_perform_enqueued_jobs_runs_pending_jobs_not_their_children(adapter: TestAdapter) -> None:
    Parent.perform_later(1)
    Parent.perform_later(2)
    assert adapter.perform_enqueued_jobs() == 2
    assert ran == [("parent", 1), ("parent", 2)]
    # The parents moved to performed_jobs; their children wait.
    assert [r.job_class.rsplit(".", 1)[1] for r in adapter.enqueued_jobs] == ["Child", "Child"]
    assert [r.job_class.rsplit(".", 1)[1] for r in adapter.performed_jobs] == ["Parent", "Parent"]
    assert adapter.perform_enqueued_jobs() == 2  # now the children
    assert adapter.perform_enqueued_jobs() == 0
    assert [r.outcome.kind for r in adapter.performed_jobs if r.outcome] == ["succeeded"] * 4
    assert [r.performed_index for r in adapter.performed_jobs] == [0, 1, 2, 3]


def test_perform_enqueued_jobs_with_a_selector(adapter: TestAdapter) -> None:
    Parent.perform_later(1)
    Child.perform_later(2)
    assert adapter.perform_enqueued_jobs(lambda r: r.queue_name == "children") == 1
    assert ran == [("child", 2)]


def test_performing_runs_jobs_as_enqueued_including_nested(adapter: TestAdapter) -> None:
    Parent.perform_later(0)  # before the block: left alone
    with adapter.performing():
        Parent.perform_later(1)
    assert ran == [("parent", 1), ("child", 1)]
    Parent.perform_later(3)  # after the block: recorded only
    assert ran == [("parent", 1), ("child", 1)]
    order = [(r.job_class.rsplit(".", 1)[1], r.args) for r in adapter.performed_jobs]
    assert order == [("Parent", (1,)), ("Child", (1,))]  # in the order they started


def test_innermost_performing_block_decides(adapter: TestAdapter) -> None:
    with adapter.performing(lambda r: r.queue_name == "children"):
        Parent.perform_later(1)
        with adapter.performing():
            Parent.perform_later(2)
        Parent.perform_later(4)
    assert ran == [("parent", 2), ("child", 2)]


def test_perform_enqueued_flag_runs_everything(adapter: TestAdapter) -> None:
    adapter.perform_enqueued = True
    Parent.perform_later(1)
    assert ran == [("parent", 1), ("child", 1)]
    assert adapter.enqueued_jobs == [] and len(adapter.performed_jobs) == 2


def test_a_failing_job_raises_and_is_recorded(adapter: TestAdapter) -> None:
    Boom.perform_later()
    with pytest.raises(LookupError, match="boom"):
        adapter.perform_enqueued_jobs()
    (recorded,) = adapter.performed_jobs
    assert recorded.outcome is not None and recorded.outcome.kind == "failed"
    assert adapter.enqueued_jobs == []  # a failed job was performed too


def test_a_retry_is_enqueued_again(adapter: TestAdapter) -> None:
    Retried.perform_later()
    adapter.perform_enqueued_jobs()
    (first,) = adapter.performed_jobs
    (retry,) = adapter.enqueued_jobs
    assert first.outcome is not None and first.outcome.kind == "retry"
    assert retry.job_id == first.job_id and retry.executions == 1 and retry.at is not None
    assert not retry.performed


def test_clear_keeps_the_counters(adapter: TestAdapter) -> None:
    Child.perform_later(1)
    adapter.perform_enqueued_jobs()
    Child.perform_later(2)
    adapter.clear_performed_jobs()
    assert adapter.performed_jobs == [] and len(adapter.enqueued_jobs) == 1
    adapter.clear_enqueued_jobs()
    assert adapter.enqueued_jobs == []
    Child.perform_later(3)
    assert adapter.enqueued_jobs[0].enqueued_index == 2
    assert (adapter.enqueued_total, adapter.performed_total) == (3, 1)
    adapter.clear()
    assert adapter.enqueued_jobs == [] and adapter.performed_jobs == []
    assert adapter.perform_enqueued_jobs() == 0  # a cleared job is never performed
