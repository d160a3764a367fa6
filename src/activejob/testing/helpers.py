"""The call forms of the test helpers: each checks or performs at once.

They check what the test has done so far (every job enqueued or performed
since the test adapter was installed). Their ``with``-statement twins in
:mod:`activejob.testing.blocks` look only at what a block did.

Example::

    ReportJob.perform_later(42)
    assert_enqueued_jobs(1, only=ReportJob)
    job = assert_enqueued_with(job=ReportJob, args=(42,), queue="reports")
    perform_enqueued_jobs()
    assert_performed_jobs(1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from activejob.testing import checks
from activejob.testing.callform import MatchedJobs, PerformedCount, refuse_as_block
from activejob.testing.filters import (
    CriteriaKeywords,
    PerformSelectionKeywords,
    Selection,
    SelectionKeywords,
    criteria_of,
    selection_of,
)
from activejob.testing.session import current_adapter

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from activejob.job.base import Job

__all__ = [
    "assert_enqueued_jobs",
    "assert_enqueued_with",
    "assert_no_enqueued_jobs",
    "assert_no_performed_jobs",
    "assert_performed_jobs",
    "assert_performed_with",
    "clear_enqueued_jobs",
    "clear_performed_jobs",
    "perform_enqueued_jobs",
]


def assert_enqueued_jobs(number: int, **options: Unpack[SelectionKeywords]) -> MatchedJobs:
    """Assert that ``number`` jobs (those the filters keep) are enqueued: enqueued so
    far in this test and not performed since (as in Rails, performing a job moves it
    to the performed jobs). For a block, ``with expect_enqueued_jobs(...)``.
    Returns the jobs counted.

    Example::

        HelloJob.perform_later("david")
        assert_enqueued_jobs(1)
        assert_enqueued_jobs(1, only=HelloJob, queue="default")
    """
    __tracebackhide__ = True
    return _count("assert_enqueued_jobs", number, selection_of("assert_enqueued_jobs", options))


def assert_no_enqueued_jobs(**options: Unpack[SelectionKeywords]) -> MatchedJobs:
    """Assert that no job (that the filters keep) is enqueued.

    Example::

        assert_no_enqueued_jobs(only=MailJob)
    """
    __tracebackhide__ = True
    return _count("assert_no_enqueued_jobs", None, selection_of("assert_no_enqueued_jobs", options))


def assert_performed_jobs(number: int, **options: Unpack[SelectionKeywords]) -> MatchedJobs:
    """Assert that ``number`` jobs (those the filters keep) have been performed so
    far, whatever their outcome. For a block that performs what it enqueues,
    ``with expect_performed_jobs(...)``. Returns the jobs counted.

    Example::

        HelloJob.perform_later("yves")
        perform_enqueued_jobs()
        assert_performed_jobs(1)
    """
    __tracebackhide__ = True
    return _count("assert_performed_jobs", number, selection_of("assert_performed_jobs", options))


def assert_no_performed_jobs(**options: Unpack[SelectionKeywords]) -> MatchedJobs:
    """Assert that no job (that the filters keep) has been performed so far.

    Example::

        assert_no_performed_jobs()
    """
    __tracebackhide__ = True
    return _count(
        "assert_no_performed_jobs", None, selection_of("assert_no_performed_jobs", options)
    )


def _count(helper: str, number: int | None, selection: Selection) -> MatchedJobs:
    __tracebackhide__ = True
    shown = ", ".join(str(a) for a in (number, selection.describe()) if a not in (None, ""))
    refuse_as_block(helper, shown)
    adapter = current_adapter()
    expected = 0 if number is None else number
    if "enqueued" in helper:
        matching = checks.check_count("enqueued", expected, adapter.enqueued_jobs, selection, "")
    else:
        matching = checks.check_count("performed", expected, adapter.performed_jobs, selection, "")
    return MatchedJobs(matching, helper, shown)


def assert_enqueued_with(**options: Unpack[CriteriaKeywords]) -> Job:
    """Assert that a job meeting every given criterion has been enqueued so far and
    not performed since; returns it (a new instance, arguments deserialised).

    Criteria left out are not checked; each may be a predicate instead of a
    value. ``at`` (a datetime, a timedelta from now or epoch seconds) matches a
    scheduled time within a second.

    Example::

        MyJob.set(wait=timedelta(hours=1)).perform_later(1, 2, depth=3)
        job = assert_enqueued_with(job=MyJob, args=(1, 2), kwargs={"depth": 3},
                                   at=timedelta(hours=1))
    """
    __tracebackhide__ = True
    criteria = criteria_of("assert_enqueued_with", options)
    refuse_as_block("assert_enqueued_with", criteria.given())
    return checks.find_match("enqueued", criteria, current_adapter().enqueued_jobs, "").job()


def assert_performed_with(**options: Unpack[CriteriaKeywords]) -> Job:
    """Assert that a job meeting every given criterion has been performed so far;
    returns it. Criteria as in :func:`assert_enqueued_with`.

    Example::

        perform_enqueued_jobs()
        assert_performed_with(job=MyJob, args=(1, 2))
    """
    __tracebackhide__ = True
    criteria = criteria_of("assert_performed_with", options)
    refuse_as_block("assert_performed_with", criteria.given())
    return checks.find_match("performed", criteria, current_adapter().performed_jobs, "").job()


def perform_enqueued_jobs(**options: Unpack[PerformSelectionKeywords]) -> PerformedCount:
    """Perform, now and in order, the jobs enqueued so far and not yet performed
    that the filters keep; returns how many ran. ``at`` keeps jobs due at or
    before that time (a datetime, a timedelta from now, or epoch seconds). As in
    Rails, each job performed moves from the enqueued jobs to the performed jobs.

    Jobs these jobs enqueue are recorded but not run (call again to run them);
    to run jobs as they are enqueued, ``with performing_enqueued_jobs():``. A job
    that fails raises its exception here; a retry is enqueued again.

    Example::

        MyJob.perform_later(1)
        MyJob.set(wait=timedelta(days=2)).perform_later(2)
        assert perform_enqueued_jobs(at=timedelta(days=1)) == 1
    """
    selection = selection_of("perform_enqueued_jobs", options, at=True)
    refuse_as_block("perform_enqueued_jobs", selection.describe())
    return PerformedCount(current_adapter().perform_enqueued_jobs(selection), selection.describe())


def clear_enqueued_jobs() -> None:
    """Forget the jobs enqueued so far (those not performed never will be).

    Example::

        clear_enqueued_jobs()
        assert_no_enqueued_jobs()
    """
    current_adapter().clear_enqueued_jobs()


def clear_performed_jobs() -> None:
    """Forget the jobs performed so far.

    Example::

        clear_performed_jobs()
        assert_no_performed_jobs()
    """
    current_adapter().clear_performed_jobs()
