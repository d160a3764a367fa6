"""The call forms of the test helpers, their filters and their failure messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import activejob
from activejob import ConfigurationError, Job, job, retry_on
from activejob.adapters.cache import resolve_adapter
from activejob.adapters.test import TestAdapter
from activejob.config import get_config
from activejob.testing import (
    assert_enqueued_jobs,
    assert_enqueued_with,
    assert_no_enqueued_jobs,
    assert_no_performed_jobs,
    assert_performed_jobs,
    assert_performed_with,
    clear_enqueued_jobs,
    clear_performed_jobs,
    current_adapter,
    perform_enqueued_jobs,
    use_test_adapter,
)

M = "tests.unit.test_testing_helpers"
ran: list[Any] = []


class HelloJob(Job):
    def perform(self, name: str, *, loud: bool = False) -> None:
        ran.append(("hello", name))


class LoggingJob(Job):
    queue_as = "logs"
    priority = 20

    def perform(self, *lines: str) -> None:
        ran.append(("logging", lines))


class ChainJob(Job):
    def perform(self, n: int) -> None:
        ran.append(("chain", n))
        if n > 0:
            ChainJob.perform_later(n - 1)


class Flaky(Exception):
    pass


@retry_on(Flaky, wait=0, attempts=2, jitter=0)
class FlakyJob(Job):
    def perform(self, n: int) -> None:
        raise Flaky(f"try {n}")


class BrokenJob(Job):
    def perform(self) -> None:
        raise LookupError("boom")


@job(queue_as="mailers")
def send_mail(to: str) -> None:
    ran.append(("mail", to))


@pytest.fixture(autouse=True)
def adapter() -> Iterator[TestAdapter]:
    ran.clear()
    with use_test_adapter() as test_adapter:
        yield test_adapter


def failure(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


# -- counting enqueued jobs ------------------------------------------------------------------


def test_assert_enqueued_jobs_counts_the_jobs_still_enqueued() -> None:
    assert_no_enqueued_jobs()
    assert_enqueued_jobs(0)
    HelloJob.perform_later("david")
    assert_enqueued_jobs(1)
    HelloJob.perform_later("abdelkader")
    perform_enqueued_jobs()
    assert_no_enqueued_jobs()  # as in Rails: performing moves them to performed_jobs
    assert_performed_jobs(2)
    assert len(ran) == 2


def test_a_ported_rails_assertion_after_performing_does_not_count_performed_jobs() -> None:
    # Rails' test_helper_test.rb shape: perform some, then count what is left.
    HelloJob.perform_later("cristian")
    HelloJob.perform_later("yves")
    LoggingJob.perform_later("line")
    assert perform_enqueued_jobs(only=LoggingJob) == 1
    assert_enqueued_jobs(2)
    assert_enqueued_jobs(0, only=LoggingJob)
    assert_performed_jobs(1, only=LoggingJob)
    assert_enqueued_with(job=HelloJob, args=("yves",))
    with pytest.raises(AssertionError, match=r"no job enqueued matches job=.*LoggingJob"):
        assert_enqueued_with(job=LoggingJob)


def test_enqueued_filters() -> None:
    HelloJob.perform_later("a")
    LoggingJob.perform_later("line")
    LoggingJob.set(queue="audit").perform_later("x")
    send_mail.perform_later("b@example.com")
    assert_enqueued_jobs(1, only=HelloJob)
    assert_enqueued_jobs(2, only=LoggingJob)
    assert_enqueued_jobs(3, only=[HelloJob, LoggingJob])
    assert_enqueued_jobs(1, only=send_mail)
    assert_enqueued_jobs(1, only=f"{M}.send_mail")
    assert_enqueued_jobs(2, only=lambda r: r.args[0].startswith(("a", "b")))
    assert_enqueued_jobs(3, except_=HelloJob)
    assert_enqueued_jobs(1, except_=LoggingJob, queue="mailers")
    assert_enqueued_jobs(1, queue="logs")
    assert_no_enqueued_jobs(only=ChainJob)
    assert_no_enqueued_jobs(queue="nowhere")


def test_only_and_except_together_are_refused() -> None:
    with pytest.raises(ValueError, match="only= or except_="):
        assert_enqueued_jobs(1, only=HelloJob, except_=LoggingJob)
    with pytest.raises(TypeError, match="job classes or a predicate"):
        assert_enqueued_jobs(1, only=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="an int >= 0"):
        assert_enqueued_jobs("1")  # type: ignore[arg-type]


def test_count_failure_lists_every_job_and_marks_the_counted() -> None:
    HelloJob.perform_later("david", loud=True)
    LoggingJob.set(wait_until=datetime(2031, 1, 2, tzinfo=timezone.utc)).perform_later("l")
    message = failure(assert_enqueued_jobs, 2, only=HelloJob)
    assert message == (
        f"expected 2 jobs enqueued matching only={M}.HelloJob, got 1\n"
        "enqueued jobs (2; * = matches):\n"
        f"  * 1. {M}.HelloJob('david', loud=True) queue='default'\n"
        f"    2. {M}.LoggingJob('l') queue='logs' priority=20 at=2031-01-02T00:00:00+00:00"
    )


def test_no_jobs_failure_message() -> None:
    HelloJob.perform_later("x")
    message = failure(assert_no_enqueued_jobs)
    assert message == (
        "expected no job enqueued, got 1\n"
        f"enqueued jobs (1):\n    1. {M}.HelloJob('x') queue='default'"
    )


def test_count_of_zero_expected_jobs_passes_on_an_empty_adapter() -> None:
    assert_no_enqueued_jobs()
    message = failure(assert_enqueued_jobs, 1)
    assert message == "expected 1 job enqueued, got 0\nenqueued jobs: none"


def test_listing_is_cut_after_fifty_jobs() -> None:
    for n in range(52):
        HelloJob.perform_later(f"n{n}")
    message = failure(assert_no_enqueued_jobs)
    shown = [f"    {n + 1}. {M}.HelloJob('n{n}') queue='default'" for n in range(50)]
    assert message == "\n".join(
        ["expected no job enqueued, got 52", "enqueued jobs (52):", *shown, "    ... and 2 more"]
    )


def test_listing_of_exactly_fifty_jobs_is_not_cut() -> None:
    for n in range(50):
        HelloJob.perform_later(f"n{n}")
    message = failure(assert_no_enqueued_jobs)
    assert message.splitlines()[-1] == f"    50. {M}.HelloJob('n49') queue='default'"
    assert "more" not in message


# -- counting performed jobs -------------------------------------------------------------------


def test_assert_performed_jobs() -> None:
    assert_no_performed_jobs()
    HelloJob.perform_later("x")
    LoggingJob.perform_later("y")
    assert_no_performed_jobs()
    perform_enqueued_jobs(only=HelloJob)
    assert_performed_jobs(1)
    assert_performed_jobs(1, only=HelloJob)
    assert_no_performed_jobs(only=LoggingJob)
    message = failure(assert_performed_jobs, 2, except_=LoggingJob)
    assert message == (
        f"expected 2 jobs performed matching except_={M}.LoggingJob, got 1\n"
        "performed jobs (1; * = matches):\n"
        f"  * 1. {M}.HelloJob('x') queue='default' -> succeeded"
    )


def ran_a_retry_a_failure_and_a_crash(adapter: TestAdapter) -> str:
    """Perform FlakyJob(1) (retried, then failed) and BrokenJob (failed); returns
    the retry's scheduled time as the listings show it."""
    FlakyJob.perform_later(1)
    assert perform_enqueued_jobs() == 1
    with pytest.raises(Flaky):
        perform_enqueued_jobs()
    BrokenJob.perform_later()
    with pytest.raises(LookupError):
        perform_enqueued_jobs()
    assert adapter.enqueued_jobs == []  # every one of them was performed
    retry_at = adapter.performed_jobs[1].scheduled_at
    assert retry_at is not None
    return retry_at.isoformat()


def test_listed_jobs_show_executions_and_how_they_ended(adapter: TestAdapter) -> None:
    retry_at = ran_a_retry_a_failure_and_a_crash(adapter)
    message = failure(assert_no_performed_jobs)
    assert message == (
        "expected no job performed, got 3\n"
        "performed jobs (3):\n"
        f"    1. {M}.FlakyJob(1) queue='default' -> retry (Flaky: try 1)\n"
        f"    2. {M}.FlakyJob(1) queue='default' at={retry_at} executions=1"
        " -> failed (Flaky: try 1)\n"
        f"    3. {M}.BrokenJob() queue='default' -> failed (LookupError: boom)"
    )


def test_performed_with_failure_when_none_matched(adapter: TestAdapter) -> None:
    retry_at = ran_a_retry_a_failure_and_a_crash(adapter)
    message = failure(assert_performed_with, job=FlakyJob, args=(2,))
    assert message == (
        f"no job performed matches job={M}.FlakyJob, args=(2,)\n"
        "performed jobs (3):\n"
        f"    1. {M}.FlakyJob(1) queue='default' -> retry (Flaky: try 1)  [differs in: args]\n"
        f"    2. {M}.FlakyJob(1) queue='default' at={retry_at} executions=1"
        " -> failed (Flaky: try 1)  [differs in: args]\n"
        f"    3. {M}.BrokenJob() queue='default' -> failed (LookupError: boom)"
        "  [differs in: job]"
    )


def test_no_performed_jobs_failure_message_with_a_filter() -> None:
    HelloJob.perform_later("x")
    LoggingJob.perform_later("y")
    perform_enqueued_jobs()
    message = failure(assert_no_performed_jobs, only=LoggingJob)
    assert message == (
        f"expected no job performed matching only={M}.LoggingJob, got 1\n"
        "performed jobs (2; * = matches):\n"
        f"    1. {M}.HelloJob('x') queue='default' -> succeeded\n"
        f"  * 2. {M}.LoggingJob('y') queue='logs' priority=20 -> succeeded"
    )


# -- matching one job ---------------------------------------------------------------------------


def test_assert_enqueued_with_returns_the_matching_job() -> None:
    HelloJob.perform_later("other")
    enqueued = HelloJob.set(queue="greetings", priority=3).perform_later("jeremy", loud=True)
    found = assert_enqueued_with(job=HelloJob, args=["jeremy"])
    assert isinstance(found, HelloJob) and found.job_id == enqueued.job_id
    assert found.arguments == ("jeremy",) and found.kwargs == {"loud": True}
    assert_enqueued_with(job=HelloJob, args=("jeremy",), kwargs={"loud": True})
    assert_enqueued_with(queue="greetings", priority=3)
    assert_enqueued_with(job=f"{M}.HelloJob", kwargs=lambda kw: kw.get("loud") is True)
    assert_enqueued_with(args=lambda args: args[0].startswith("jer"), queue=lambda q: "greet" in q)
    assert_enqueued_with(priority=lambda p: p is None)  # the first job
    send_mail.perform_later("a@example.com")
    assert_enqueued_with(job=send_mail, args=("a@example.com",), queue="mailers")


def test_at_matches_within_a_second() -> None:
    noon = datetime(2031, 5, 1, 12, tzinfo=timezone.utc)
    LoggingJob.set(wait_until=noon).perform_later()
    LoggingJob.set(wait=timedelta(hours=1)).perform_later()
    assert_enqueued_with(at=noon)
    assert_enqueued_with(at=noon + timedelta(seconds=0.9))
    assert_enqueued_with(at=noon.timestamp())
    assert_enqueued_with(at=timedelta(hours=1))
    assert_enqueued_with(at=lambda moment: moment is not None and moment.year == 2031)
    message = failure(assert_enqueued_with, at=noon + timedelta(seconds=2))
    assert message.count("differs in: at") == 2


def test_enqueued_with_failure_says_what_differs_job_by_job() -> None:
    HelloJob.perform_later("david")
    LoggingJob.perform_later("line")
    message = failure(assert_enqueued_with, job=HelloJob, args=("jeremy",), queue="default")
    assert message == (
        f"no job enqueued matches job={M}.HelloJob, args=('jeremy',), queue='default'\n"
        "enqueued jobs (2):\n"
        f"    1. {M}.HelloJob('david') queue='default'  [differs in: args]\n"
        f"    2. {M}.LoggingJob('line') queue='logs' priority=20  [differs in: job]"
    )
    assert failure(assert_enqueued_with, job=ChainJob).endswith("[differs in: job]")


def test_enqueued_with_and_nothing_enqueued() -> None:
    message = failure(assert_enqueued_with, job=HelloJob)
    assert message == f"no job enqueued matches job={M}.HelloJob\nenqueued jobs: none"


def test_assert_performed_with() -> None:
    HelloJob.perform_later("x")
    message = failure(assert_performed_with, job=HelloJob)
    assert message == f"no job performed matches job={M}.HelloJob\nperformed jobs: none"
    perform_enqueued_jobs()
    performed = assert_performed_with(job=HelloJob, args=("x",))
    assert performed.arguments == ("x",)


# -- performing ---------------------------------------------------------------------------------


def test_perform_enqueued_jobs_filters_and_returns_the_count() -> None:
    HelloJob.perform_later("a")
    LoggingJob.perform_later("b")
    send_mail.perform_later("c")
    assert perform_enqueued_jobs(only=[HelloJob, send_mail]) == 2
    assert ran == [("hello", "a"), ("mail", "c")]
    assert perform_enqueued_jobs(queue="nowhere") == 0
    assert perform_enqueued_jobs(except_=HelloJob) == 1
    assert ran[-1] == ("logging", ("b",))


def test_perform_enqueued_jobs_at() -> None:
    LoggingJob.set(wait=timedelta(days=2)).perform_later("later")
    LoggingJob.set(wait=timedelta(minutes=5)).perform_later("soon")
    HelloJob.perform_later("now")
    assert perform_enqueued_jobs(at=timedelta(hours=1)) == 2
    assert [r for _, r in ran] == [("soon",), "now"]
    assert perform_enqueued_jobs(at=datetime.now(timezone.utc) + timedelta(days=3)) == 1


def test_perform_enqueued_jobs_leaves_what_they_enqueue() -> None:
    ChainJob.perform_later(2)
    assert perform_enqueued_jobs() == 1
    assert_enqueued_with(job=ChainJob, args=(1,))
    assert_enqueued_jobs(1, only=ChainJob)
    assert perform_enqueued_jobs() == 1
    assert perform_enqueued_jobs() == 1
    assert perform_enqueued_jobs() == 0
    assert [n for _, n in ran] == [2, 1, 0]


# -- lists --------------------------------------------------------------------------------------


def test_lists_and_clearing(adapter: TestAdapter) -> None:
    HelloJob.perform_later("a")
    perform_enqueued_jobs()
    HelloJob.perform_later("b")
    assert current_adapter() is adapter
    assert [r.args for r in adapter.enqueued_jobs] == [("b",)]
    assert [r.args for r in adapter.performed_jobs] == [("a",)]
    clear_performed_jobs()
    assert_no_performed_jobs()
    assert_enqueued_jobs(1)
    clear_enqueued_jobs()
    assert_no_enqueued_jobs()


# -- finding and installing the adapter ------------------------------------------------------------


def test_helpers_refuse_another_adapter_without_building_it() -> None:
    activejob.configure(adapter="postgresql://nowhere.invalid/db")
    with pytest.raises(ConfigurationError, match=r"needs the test adapter.*activejob_test_adapter"):
        assert_enqueued_jobs(0)
    activejob.configure(adapter="inline:")
    resolve_adapter()
    with pytest.raises(ConfigurationError, match="not 'inline:'"):
        perform_enqueued_jobs()


def test_a_test_url_works_too() -> None:
    activejob.configure(adapter="test:")
    HelloJob.perform_later("via url")
    assert_enqueued_with(args=("via url",))
    assert isinstance(resolve_adapter(), TestAdapter)


def test_use_test_adapter_restores_the_configuration_and_own_adapters() -> None:
    class OwnAdapterJob(Job):
        queue_adapter = "inline:"

        def perform(self) -> None: ...

    activejob.configure(adapter="async:")
    with use_test_adapter() as adapter:
        assert get_config().adapter is adapter
        assert OwnAdapterJob.queue_adapter is adapter
        OwnAdapterJob.perform_later()
        assert_enqueued_jobs(1, only=OwnAdapterJob)
    assert get_config().adapter == "async:"
    assert OwnAdapterJob.queue_adapter == "inline:"


# -- a call form used as a `with` block ----------------------------------------------------------

CALL_FORMS: list[tuple[str, str, str]] = [
    # (as the test writes it, as the message shows it, the block form it names)
    ("assert_enqueued_jobs(1)", "assert_enqueued_jobs(1)", "expect_enqueued_jobs(1)"),
    (
        "assert_enqueued_jobs(0, queue='q')",
        "assert_enqueued_jobs(0, queue='q')",
        "expect_enqueued_jobs(0, queue='q')",
    ),
    ("assert_no_enqueued_jobs()", "assert_no_enqueued_jobs()", "expect_no_enqueued_jobs()"),
    ("assert_performed_jobs(2)", "assert_performed_jobs(2)", "expect_performed_jobs(2)"),
    ("assert_no_performed_jobs()", "assert_no_performed_jobs()", "expect_no_performed_jobs()"),
    (
        "assert_enqueued_with(job=HelloJob)",
        f"assert_enqueued_with(job={M}.HelloJob)",
        f"expect_enqueued_with(job={M}.HelloJob)",
    ),
    (
        "assert_performed_with(args=('x',))",
        "assert_performed_with(args=('x',))",
        "expect_performed_with(args=('x',))",
    ),
    ("perform_enqueued_jobs()", "perform_enqueued_jobs()", "performing_enqueued_jobs()"),
]


def _block_form_named(info: pytest.ExceptionInfo[TypeError], call: str, block: str) -> None:
    message = str(info.value)
    assert message.startswith(call), message
    assert f"write `with {block}:`" in message, message
    assert "context manager protocol" not in message and "expected" not in message


@pytest.mark.parametrize(("source", "call", "block"), CALL_FORMS, ids=[c[0] for c in CALL_FORMS])
@pytest.mark.parametrize("statement", ["with", "async with"])
def test_a_call_form_used_as_a_block_names_the_block_form(
    source: str, call: str, block: str, statement: str
) -> None:
    # Run as a user writes it: the call is the `with` statement's own expression.
    code = f"async def misuse():\n    {statement} {source}:\n        pass\n"
    namespace = dict(globals())
    exec(compile(code, __file__, "exec"), namespace)
    # Whether the check would pass or fail, the mistake is what the test reports.
    for _ in range(2):
        with pytest.raises(TypeError) as info:
            asyncio.run(namespace["misuse"]())
        _block_form_named(info, call, block)
        HelloJob.perform_later("x")  # now the count and match checks would pass
        perform_enqueued_jobs(queue="nothing here")
    assert ran == []  # perform_enqueued_jobs in a `with` performed nothing


def test_a_call_form_written_in_a_with_statement_names_the_block_form() -> None:
    HelloJob.perform_later("x")
    with pytest.raises(TypeError) as info, assert_enqueued_jobs(1):  # would pass: still refused
        pass
    _block_form_named(info, "assert_enqueued_jobs(1)", "expect_enqueued_jobs(1)")
    with pytest.raises(TypeError) as info, assert_enqueued_jobs(5, only=HelloJob):  # would fail
        pass
    _block_form_named(
        info,
        f"assert_enqueued_jobs(5, only={M}.HelloJob)",
        f"expect_enqueued_jobs(5, only={M}.HelloJob)",
    )
    refused = pytest.raises(TypeError, match=r"write `with expect_enqueued_with\(job=")
    with refused, assert_enqueued_with(job=HelloJob):  # type: ignore[attr-defined]
        pass
    refused = pytest.raises(TypeError, match=r"write `with performing_enqueued_jobs\(\):`")
    with refused, perform_enqueued_jobs():
        pass
    assert ran == []


def test_a_call_form_returned_into_a_block_names_the_block_form() -> None:
    # Called in a helper, the `with` is out of sight: the returned value refuses it.
    def counted() -> Any:
        return assert_no_enqueued_jobs()

    def performed() -> Any:
        return perform_enqueued_jobs(queue="q")

    refused = pytest.raises(
        TypeError,
        match=r"^assert_no_enqueued_jobs\(\) is the call form.*"
        r"write `with expect_no_enqueued_jobs\(\):`",
    )
    with refused, counted():
        pass
    refused = pytest.raises(TypeError, match=r"write `with performing_enqueued_jobs\(queue='q'\):`")
    with refused, performed():
        pass


def test_call_forms_still_return_what_they_checked() -> None:
    HelloJob.perform_later("a")
    (recorded,) = assert_enqueued_jobs(1)
    assert recorded.args == ("a",)
    assert assert_no_performed_jobs() == []
    assert perform_enqueued_jobs() == 1 and isinstance(perform_enqueued_jobs(), int)
    assert assert_performed_jobs(1)[0] is recorded


def test_recorded_job_lines_survive_unreadable_arguments(adapter: TestAdapter) -> None:
    HelloJob.perform_later("x")
    adapter.enqueued_jobs[0].payload["arguments"] = [{"_aj": "gone", "v": 1}]
    message = failure(assert_enqueued_with, args=("x",))
    assert f"{M}.HelloJob(<not deserialisable: DeserializationError: argument 0" in message
    assert 'stored as [[{"_aj": "gone", "v": 1}], {}]>' in message
    assert "differs in: args (unreadable: " in message


@pytest.mark.parametrize(
    ("helper", "keywords", "name"),
    [
        (lambda **kw: assert_enqueued_jobs(0, **kw), {"at": 5}, "assert_enqueued_jobs"),
        (lambda **kw: assert_no_performed_jobs(**kw), {"priority": 1}, "assert_no_performed_jobs"),
        (lambda **kw: assert_enqueued_with(**kw), {"jbo": HelloJob}, "assert_enqueued_with"),
        (lambda **kw: perform_enqueued_jobs(**kw), {"job": HelloJob}, "perform_enqueued_jobs"),
    ],
)
def test_an_unknown_keyword_is_refused_naming_the_helper(
    helper: Any, keywords: dict[str, Any], name: str
) -> None:
    key = next(iter(keywords))
    expected = rf"^{name}\(\) got an unexpected keyword argument '{key}'$"
    with pytest.raises(TypeError, match=expected):
        helper(**keywords)
