"""Test helpers for code that enqueues jobs, on the ``test:`` adapter.

In pytest, ask for the ``activejob_test_adapter`` fixture (a plugin installed
with activejob); in ``unittest``, mix in :class:`ActiveJobTestMixin`. Each
helper comes in two forms, with two names, because a plain call cannot know
whether a ``with`` statement follows:

====================================  =========================================
checks what the test did so far       looks only at what a ``with`` block did
====================================  =========================================
``assert_enqueued_jobs(n)``           ``expect_enqueued_jobs(n)``
``assert_no_enqueued_jobs()``         ``expect_no_enqueued_jobs()``
``assert_performed_jobs(n)``          ``expect_performed_jobs(n)`` (performs)
``assert_no_performed_jobs()``        ``expect_no_performed_jobs()`` (performs)
``assert_enqueued_with(...)``         ``expect_enqueued_with(...)``
``assert_performed_with(...)``        ``expect_performed_with(...)`` (performs)
``perform_enqueued_jobs()``           ``performing_enqueued_jobs()``
====================================  =========================================

Continuations: ``interrupt_job_during_step(JobClass, "step", cursor=...)`` and
``interrupt_job_after_step(JobClass, "step")`` stop a ``Continuable`` job in a
``with`` block, as a stopping worker would.

Example::

    def test_sign_up(activejob_test_adapter):
        with expect_enqueued_jobs(1, only=WelcomeEmailJob):
            sign_up("a@example.com")
        perform_enqueued_jobs()
        assert_performed_with(job=WelcomeEmailJob, args=("a@example.com",))

See ``docs/testing.md``.
"""

from __future__ import annotations

from activejob.adapters.test import RecordedJob, TestAdapter
from activejob.testing.blocks import (
    JobCountExpectation,
    JobMatchExpectation,
    PerformingBlock,
    expect_enqueued_jobs,
    expect_enqueued_with,
    expect_no_enqueued_jobs,
    expect_no_performed_jobs,
    expect_performed_jobs,
    expect_performed_with,
    performing_enqueued_jobs,
)
from activejob.testing.callform import MatchedJobs, PerformedCount
from activejob.testing.continuations import interrupt_job_after_step, interrupt_job_during_step
from activejob.testing.helpers import (
    assert_enqueued_jobs,
    assert_enqueued_with,
    assert_no_enqueued_jobs,
    assert_no_performed_jobs,
    assert_performed_jobs,
    assert_performed_with,
    clear_enqueued_jobs,
    clear_performed_jobs,
    perform_enqueued_jobs,
)
from activejob.testing.session import check_blocks_used, current_adapter, use_test_adapter
from activejob.testing.testcase import ActiveJobTestMixin

__all__ = [
    "ActiveJobTestMixin",
    "JobCountExpectation",
    "JobMatchExpectation",
    "MatchedJobs",
    "PerformedCount",
    "PerformingBlock",
    "RecordedJob",
    "TestAdapter",
    "assert_enqueued_jobs",
    "assert_enqueued_with",
    "assert_no_enqueued_jobs",
    "assert_no_performed_jobs",
    "assert_performed_jobs",
    "assert_performed_with",
    "check_blocks_used",
    "clear_enqueued_jobs",
    "clear_performed_jobs",
    "current_adapter",
    "expect_enqueued_jobs",
    "expect_enqueued_with",
    "expect_no_enqueued_jobs",
    "expect_no_performed_jobs",
    "expect_performed_jobs",
    "expect_performed_with",
    "interrupt_job_after_step",
    "interrupt_job_during_step",
    "perform_enqueued_jobs",
    "performing_enqueued_jobs",
    "use_test_adapter",
]
