"""The ``with``-statement forms of the test helpers: each looks only at what its
block did.

One name cannot safely serve both forms in Python: a call cannot know whether a
``with`` statement will follow, so a helper that checked nothing until the block
ended would check nothing at all when called plainly. So the call forms
(``assert_enqueued_jobs``, ...) check at once and refuse ``with`` with a
``TypeError`` naming the block form (see :mod:`activejob.testing.callform`), and
the block forms have their own names::

    with expect_enqueued_jobs(2, only=MailJob):
        sign_up("a@example.com")

    with performing_enqueued_jobs():
        sign_up("b@example.com")        # jobs run as they are enqueued

A block helper created but never entered would check nothing: it warns when
dropped, and the pytest fixture and the unittest mixin fail the test.
"""

from __future__ import annotations

import contextlib
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TypeVar

from activejob.adapters.test import RecordedJob, Selector, TestAdapter
from activejob.testing import checks, session
from activejob.testing.filters import (
    Criteria,
    CriteriaKeywords,
    PerformSelectionKeywords,
    Selection,
    SelectionKeywords,
    criteria_of,
    selection_of,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from typing_extensions import Unpack

    from activejob.job.base import Job

__all__ = [
    "JobCountExpectation",
    "JobMatchExpectation",
    "PerformingBlock",
    "expect_enqueued_jobs",
    "expect_enqueued_with",
    "expect_no_enqueued_jobs",
    "expect_no_performed_jobs",
    "expect_performed_jobs",
    "expect_performed_with",
    "performing_enqueued_jobs",
]

B = TypeVar("B", bound="_Block")
Kind = Literal["enqueued", "performed"]
_SCOPE = " in the block"


class _Block:
    """Runs a block, watching the test adapter; checks when the block ends."""

    _perform: Selector | None = None
    """Jobs enqueued in the block that run at once (``None``: none do)."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._entered = False
        self._ticket = session.track_block(f"{description} at {session.caller_location()}")
        self.enqueued: list[RecordedJob] = []
        """Every job enqueued in the block and not performed by its end (set when it
        ends): as in Rails, a job performed moves to ``performed``."""
        self.performed: list[RecordedJob] = []
        """Every job performed in the block (set when it ends)."""

    def __enter__(self: B) -> B:
        self._entered = True
        session.block_entered(self._ticket)
        self._adapter = session.current_adapter()
        self._marks = (self._adapter.enqueued_total, self._adapter.performed_total)
        self._performing: AbstractContextManager[None] | None = None
        if self._perform is not None:
            self._performing = self._adapter.performing(self._perform)
            self._performing.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        if self._performing is not None:
            self._performing.__exit__(exc_type, exc, tb)
        adapter: TestAdapter = self._adapter
        enqueued_mark, performed_mark = self._marks
        self.enqueued = [r for r in adapter.enqueued_jobs if r.enqueued_index >= enqueued_mark]
        self.performed = [
            r
            for r in adapter.performed_jobs
            if r.performed_index is not None and r.performed_index >= performed_mark
        ]
        if exc_type is None:  # the block's own exception is the news, not our check
            self._check()

    def _check(self) -> None:
        """Raise ``AssertionError`` if the block did not do what was expected."""

    def __del__(self) -> None:
        ticket = getattr(self, "_ticket", None)
        if ticket is None or getattr(self, "_entered", True) or not session.is_unused(ticket):
            return
        with contextlib.suppress(Exception):  # at interpreter shutdown there is no one to tell
            warnings.warn(
                f"{session.describe_block(ticket)} was never used in a `with` statement, "
                "so it checked nothing",
                RuntimeWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"<{self._description}>"


class JobCountExpectation(_Block):
    """Made by :func:`expect_enqueued_jobs` and friends; ``jobs`` holds the jobs
    counted, once the block has ended."""

    def __init__(self, helper: str, kind: Kind, number: int | None, selection: Selection) -> None:
        shown = ", ".join(str(a) for a in (number, selection.describe()) if a not in (None, ""))
        super().__init__(f"{helper}({shown})")
        number = 0 if number is None else number
        self._kind = kind
        self._number = number
        self._selection = selection
        if kind == "performed":
            self._perform = selection
        self.jobs: list[RecordedJob] = []

    def _check(self) -> None:
        __tracebackhide__ = True
        records = self.enqueued if self._kind == "enqueued" else self.performed
        self.jobs = checks.check_count(self._kind, self._number, records, self._selection, _SCOPE)


class JobMatchExpectation(_Block):
    """Made by :func:`expect_enqueued_with` / :func:`expect_performed_with`;
    ``job`` is the matching job once the block has ended."""

    def __init__(self, helper: str, kind: Kind, criteria: Criteria) -> None:
        super().__init__(f"{helper}({criteria.describe()})")
        self._kind = kind
        self._criteria = criteria
        if kind == "performed":
            self._perform = _every_job
        self.recorded: RecordedJob | None = None
        """The matching recorded job."""

    @property
    def job(self) -> Job:
        """The matching job (a new instance, arguments deserialised)."""
        if self.recorded is None:
            raise RuntimeError(f"{self._description}: the block has not ended, or did not match")
        return self.recorded.job()

    def _check(self) -> None:
        __tracebackhide__ = True
        records = self.enqueued if self._kind == "enqueued" else self.performed
        self.recorded = checks.find_match(self._kind, self._criteria, records, _SCOPE)


class PerformingBlock(_Block):
    """Made by :func:`performing_enqueued_jobs`; ``performed`` lists the jobs run."""

    def __init__(self, selection: Selection) -> None:
        super().__init__(f"performing_enqueued_jobs({selection.describe()})")
        self._perform = selection


def _every_job(recorded: RecordedJob) -> bool:
    return True


def expect_enqueued_jobs(number: int, **options: Unpack[SelectionKeywords]) -> JobCountExpectation:
    """Expect the block to enqueue ``number`` jobs (those the filters keep).

    Example::

        with expect_enqueued_jobs(2, only=HelloJob):
            HelloJob.perform_later("aaron")
            HelloJob.perform_later("rafael")
            LoggingJob.perform_later()
    """
    return JobCountExpectation(
        "expect_enqueued_jobs", "enqueued", number, selection_of("expect_enqueued_jobs", options)
    )


def expect_no_enqueued_jobs(**options: Unpack[SelectionKeywords]) -> JobCountExpectation:
    """Expect the block to enqueue no job (that the filters keep).

    Example::

        with expect_no_enqueued_jobs(only=MailJob):
            update_profile()
    """
    selection = selection_of("expect_no_enqueued_jobs", options)
    return JobCountExpectation("expect_no_enqueued_jobs", "enqueued", None, selection)


def expect_performed_jobs(number: int, **options: Unpack[SelectionKeywords]) -> JobCountExpectation:
    """Perform the jobs the block enqueues (those the filters keep, at once, with
    the jobs they enqueue) and expect ``number`` of them to run.

    Example::

        with expect_performed_jobs(1, only=HelloJob):
            HelloJob.perform_later("jeremy")
            LoggingJob.perform_later()       # recorded, not performed
    """
    selection = selection_of("expect_performed_jobs", options)
    return JobCountExpectation("expect_performed_jobs", "performed", number, selection)


def expect_no_performed_jobs(**options: Unpack[SelectionKeywords]) -> JobCountExpectation:
    """Perform the jobs the block enqueues that the filters keep, and expect none.

    Example::

        with expect_no_performed_jobs(queue="mailers"):
            HelloJob.set(queue="default").perform_later("x")
    """
    selection = selection_of("expect_no_performed_jobs", options)
    return JobCountExpectation("expect_no_performed_jobs", "performed", None, selection)


def expect_enqueued_with(**options: Unpack[CriteriaKeywords]) -> JobMatchExpectation:
    """Expect the block to enqueue a job meeting every given criterion (as in
    ``assert_enqueued_with``); the match is ``.job`` afterwards.

    Example::

        with expect_enqueued_with(job=MyJob, args=(1, 2)) as expected:
            MyJob.perform_later(1, 2)
        expected.job.job_id
    """
    criteria = criteria_of("expect_enqueued_with", options)
    return JobMatchExpectation("expect_enqueued_with", "enqueued", criteria)


def expect_performed_with(**options: Unpack[CriteriaKeywords]) -> JobMatchExpectation:
    """Perform every job the block enqueues, at once, and expect one meeting every
    given criterion to have run; the match is ``.job`` afterwards.

    Example::

        with expect_performed_with(job=MyJob, args=(1, 2)):
            MyJob.perform_later(1, 2)
    """
    criteria = criteria_of("expect_performed_with", options)
    return JobMatchExpectation("expect_performed_with", "performed", criteria)


def performing_enqueued_jobs(**options: Unpack[PerformSelectionKeywords]) -> PerformingBlock:
    """Run the jobs enqueued inside the block as soon as they are enqueued, jobs
    those jobs enqueue included, if the filters keep them (``at``: only jobs due
    at or before that time). Jobs enqueued before the block are left alone.

    Example::

        with performing_enqueued_jobs(except_=SlowReportJob):
            sign_up("a@example.com")
        assert_performed_jobs(1)
    """
    return PerformingBlock(selection_of("performing_enqueued_jobs", options, at=True))
