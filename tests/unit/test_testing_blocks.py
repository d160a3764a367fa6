"""The ``with`` forms of the test helpers: they look only at their block, and one
that is never entered cannot pass silently."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from activejob import Job
from activejob.adapters.test import TestAdapter
from activejob.testing import (
    assert_enqueued_jobs,
    assert_performed_jobs,
    check_blocks_used,
    expect_enqueued_jobs,
    expect_enqueued_with,
    expect_no_enqueued_jobs,
    expect_no_performed_jobs,
    expect_performed_jobs,
    expect_performed_with,
    performing_enqueued_jobs,
    use_test_adapter,
)
from activejob.testing.session import forget_unused_blocks

M = "tests.unit.test_testing_blocks"
ran: list[Any] = []


class HelloJob(Job):
    def perform(self, name: str) -> None:
        ran.append(("hello", name))


class LoggingJob(Job):
    queue_as = "logs"

    def perform(self) -> None:
        ran.append(("logging",))


class ChainJob(Job):
    def perform(self, n: int) -> None:
        ran.append(("chain", n))
        if n > 0:
            ChainJob.perform_later(n - 1)


@pytest.fixture(autouse=True)
def adapter() -> Iterator[TestAdapter]:
    ran.clear()
    forget_unused_blocks()
    with use_test_adapter() as test_adapter:
        yield test_adapter
    forget_unused_blocks()


# -- counting ---------------------------------------------------------------------------------


def test_expect_enqueued_jobs_counts_only_the_block() -> None:
    HelloJob.perform_later("before")
    with expect_enqueued_jobs(2) as expectation:
        HelloJob.perform_later("aaron")
        HelloJob.perform_later("rafael")
    assert [r.args for r in expectation.jobs] == [("aaron",), ("rafael",)]
    with expect_enqueued_jobs(1, only=LoggingJob):
        LoggingJob.perform_later()
        HelloJob.perform_later("jeremy")
    with expect_enqueued_jobs(1, except_=HelloJob, queue="logs"):
        LoggingJob.perform_later()
        HelloJob.perform_later("jeremy")
    with expect_no_enqueued_jobs(only=LoggingJob):
        HelloJob.perform_later("x")
    with expect_no_enqueued_jobs():
        pass
    assert ran == []


def test_expect_enqueued_jobs_failure_lists_the_blocks_jobs() -> None:
    HelloJob.perform_later("before")  # not the block's: not listed
    with pytest.raises(AssertionError) as info, expect_enqueued_jobs(2, only=HelloJob):
        HelloJob.perform_later("inside")
        LoggingJob.perform_later()
    assert str(info.value) == (
        f"expected 2 jobs enqueued in the block matching only={M}.HelloJob, got 1\n"
        "enqueued jobs in the block (2; * = matches):\n"
        f"  * 1. {M}.HelloJob('inside') queue='default'\n"
        f"    2. {M}.LoggingJob() queue='logs'"
    )


def test_expect_no_enqueued_jobs_failure() -> None:
    with pytest.raises(AssertionError) as info, expect_no_enqueued_jobs(queue="logs"):
        LoggingJob.perform_later()
    assert str(info.value).startswith("expected no job enqueued in the block matching queue='logs'")


def test_expect_performed_jobs_performs_what_the_filters_keep() -> None:
    HelloJob.perform_later("before")  # left alone
    with expect_performed_jobs(1, only=HelloJob) as expectation:
        HelloJob.perform_later("jeremy")
        LoggingJob.perform_later()
    assert ran == [("hello", "jeremy")]
    assert [r.args for r in expectation.jobs] == [("jeremy",)]
    assert_performed_jobs(1)
    with expect_performed_jobs(3):
        ChainJob.perform_later(2)  # and the jobs it enqueues
    with expect_no_performed_jobs(queue="logs"):
        HelloJob.perform_later("not performed, not counted")
    assert ("hello", "not performed, not counted") not in ran


def test_expect_performed_jobs_failure() -> None:
    with pytest.raises(AssertionError) as info, expect_performed_jobs(2):
        HelloJob.perform_later("only one")
    assert str(info.value) == (
        "expected 2 jobs performed in the block, got 1\n"
        "performed jobs in the block (1):\n"
        f"    1. {M}.HelloJob('only one') queue='default' -> succeeded"
    )
    expected = "expected no job performed in the block, got 1"
    with pytest.raises(AssertionError, match=expected), expect_no_performed_jobs():
        HelloJob.perform_later("x")


# -- matching --------------------------------------------------------------------------------


def test_expect_enqueued_with() -> None:
    HelloJob.perform_later("david")  # before the block: does not count
    with expect_enqueued_with(job=HelloJob, args=("rafael",)) as expected:
        LoggingJob.perform_later()
        enqueued = HelloJob.perform_later("rafael")
    assert expected.job.job_id == enqueued.job_id and expected.job.arguments == ("rafael",)
    assert expected.recorded is not None and not expected.recorded.performed
    with pytest.raises(AssertionError) as info, expect_enqueued_with(args=("david",)):
        HelloJob.perform_later("eileen")
    assert str(info.value) == (
        "no job enqueued in the block matches args=('david',)\n"
        "enqueued jobs in the block (1):\n"
        f"    1. {M}.HelloJob('eileen') queue='default'  [differs in: args]"
    )


def test_expect_performed_with_performs_the_block() -> None:
    with expect_performed_with(job=ChainJob, args=(0,)) as expected:
        ChainJob.perform_later(1)
    assert ran == [("chain", 1), ("chain", 0)] and expected.job.arguments == (0,)
    with pytest.raises(AssertionError) as info, expect_performed_with(job=LoggingJob):
        HelloJob.perform_later("x")
    assert str(info.value).endswith(
        f"{M}.HelloJob('x') queue='default' -> succeeded  [differs in: job]"
    )


def test_the_match_is_unavailable_before_the_block_ends() -> None:
    expectation = expect_enqueued_with(job=HelloJob)
    with pytest.raises(RuntimeError, match="has not ended"), expectation:
        _ = expectation.job


# -- performing --------------------------------------------------------------------------------


def test_performing_enqueued_jobs_runs_jobs_as_they_are_enqueued(adapter: TestAdapter) -> None:
    HelloJob.perform_later("before")
    with performing_enqueued_jobs() as block:
        ChainJob.perform_later(1)
        assert ran == [("chain", 1), ("chain", 0)]  # already, inside the block
    assert [r.args for r in block.performed] == [(1,), (0,)]
    assert block.enqueued == []  # performed, so no longer enqueued (as in Rails)
    assert [r.args for r in adapter.enqueued_jobs] == [("before",)]
    HelloJob.perform_later("after")
    assert ("hello", "before") not in ran and ("hello", "after") not in ran


def test_a_block_counts_as_enqueued_only_the_jobs_it_did_not_perform() -> None:
    with expect_enqueued_jobs(1), performing_enqueued_jobs(only=HelloJob):
        HelloJob.perform_later("run at once")
        LoggingJob.perform_later()
    with expect_enqueued_with(job=LoggingJob), expect_performed_jobs(1, only=HelloJob):
        HelloJob.perform_later("again")
        LoggingJob.perform_later()
    missed = pytest.raises(AssertionError, match="expected 1 job enqueued in the block, got 0")
    with missed, expect_enqueued_jobs(1), performing_enqueued_jobs():
        HelloJob.perform_later("performed, so not enqueued")


def test_performing_enqueued_jobs_filters() -> None:
    with performing_enqueued_jobs(except_=LoggingJob):
        LoggingJob.perform_later()
        HelloJob.perform_later("a")
    with performing_enqueued_jobs(queue="logs"):
        LoggingJob.perform_later()
        HelloJob.perform_later("b")
    with performing_enqueued_jobs(at=60):  # epoch 60: long past, so only unscheduled jobs
        HelloJob.set(wait=5).perform_later("c")
        HelloJob.perform_later("d")
    assert ran == [("hello", "a"), ("logging",), ("hello", "d")]
    assert_enqueued_jobs(3)  # the three left alone; the performed ones moved to performed_jobs
    assert_performed_jobs(3)


def test_an_exception_in_the_block_propagates_and_ends_performing(adapter: TestAdapter) -> None:
    with pytest.raises(KeyError), expect_performed_jobs(5):
        raise KeyError("the block's own error wins")
    HelloJob.perform_later("after")
    assert ran == []


# -- forgetting `with` -------------------------------------------------------------------------


def test_a_block_helper_never_entered_fails_the_check() -> None:
    with pytest.warns(
        RuntimeWarning,
        match=r"expect_enqueued_jobs\(1\) at .*test_testing_blocks.py:\d+ was never used",
    ):
        expect_enqueued_jobs(1)
        gc.collect()
    with pytest.raises(AssertionError) as info:
        check_blocks_used()
    message = str(info.value)
    assert "never used in a `with` statement, so they checked nothing" in message
    assert f"expect_enqueued_jobs(1) at {__file__}:" in message
    check_blocks_used()  # reported once


def test_every_block_helper_is_guarded() -> None:
    made = [
        expect_enqueued_jobs(1, only=HelloJob),
        expect_no_enqueued_jobs(),
        expect_performed_jobs(2),
        expect_no_performed_jobs(queue="q"),
        expect_enqueued_with(job=HelloJob),
        expect_performed_with(args=(1,)),
        performing_enqueued_jobs(),
    ]
    with pytest.raises(AssertionError) as info:
        check_blocks_used()
    text = str(info.value)
    for name in (
        f"expect_enqueued_jobs(1, only={M}.HelloJob)",
        "expect_no_enqueued_jobs()",
        "expect_performed_jobs(2)",
        "expect_no_performed_jobs(queue='q')",
        f"expect_enqueued_with(job={M}.HelloJob)",
        "expect_performed_with(args=(1,))",
        "performing_enqueued_jobs()",
    ):
        assert name in text
    del made


def test_entered_blocks_pass_the_check() -> None:
    with expect_no_enqueued_jobs():
        pass
    check_blocks_used()
