"""``ActiveJobTestMixin``: the test helpers as methods of a ``unittest.TestCase``.

Mix it into any ``unittest.TestCase`` (Django's included); each test gets a
fresh test adapter, restored after the test::

    class SignUpTest(ActiveJobTestMixin, unittest.TestCase):
        def test_sends_welcome_email(self) -> None:
            sign_up("a@example.com")
            self.assert_enqueued_with(job=WelcomeEmailJob, args=("a@example.com",))

A ``setUp`` of your own must call ``super().setUp()``.
"""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING

from activejob.adapters.test import RecordedJob, TestAdapter
from activejob.testing import blocks, helpers, session

__all__ = ["ActiveJobTestMixin"]

# mypy sees the TestCase methods the mixin calls; at run time it stays a plain
# mixin, so importing it into a test module adds no test class.
if TYPE_CHECKING:
    _Base = unittest.TestCase
else:
    _Base = object


class ActiveJobTestMixin(_Base):
    """Installs a fresh :class:`TestAdapter` for each test and offers every helper
    of :mod:`activejob.testing` as a method.

    After each test it also fails the test if a block helper
    (``expect_...``, ``performing_enqueued_jobs``) was never used in a ``with``
    statement.
    """

    queue_adapter: TestAdapter
    """This test's adapter."""

    def setUp(self) -> None:
        super().setUp()
        session.forget_unused_blocks()
        installation = session.use_test_adapter()
        self.queue_adapter = installation.__enter__()
        # Cleanups run last-in first-out: the check, then the restore (even if it failed).
        self.addCleanup(installation.__exit__, None, None, None)
        self.addCleanup(session.check_blocks_used)

    @property
    def enqueued_jobs(self) -> list[RecordedJob]:
        """The jobs enqueued in this test and not performed since."""
        return session.current_adapter().enqueued_jobs

    @property
    def performed_jobs(self) -> list[RecordedJob]:
        """Every job performed in this test."""
        return session.current_adapter().performed_jobs

    assert_enqueued_jobs = staticmethod(helpers.assert_enqueued_jobs)
    assert_no_enqueued_jobs = staticmethod(helpers.assert_no_enqueued_jobs)
    assert_performed_jobs = staticmethod(helpers.assert_performed_jobs)
    assert_no_performed_jobs = staticmethod(helpers.assert_no_performed_jobs)
    assert_enqueued_with = staticmethod(helpers.assert_enqueued_with)
    assert_performed_with = staticmethod(helpers.assert_performed_with)
    perform_enqueued_jobs = staticmethod(helpers.perform_enqueued_jobs)
    clear_enqueued_jobs = staticmethod(helpers.clear_enqueued_jobs)
    clear_performed_jobs = staticmethod(helpers.clear_performed_jobs)

    expect_enqueued_jobs = staticmethod(blocks.expect_enqueued_jobs)
    expect_no_enqueued_jobs = staticmethod(blocks.expect_no_enqueued_jobs)
    expect_performed_jobs = staticmethod(blocks.expect_performed_jobs)
    expect_no_performed_jobs = staticmethod(blocks.expect_no_performed_jobs)
    expect_enqueued_with = staticmethod(blocks.expect_enqueued_with)
    expect_performed_with = staticmethod(blocks.expect_performed_with)
    performing_enqueued_jobs = staticmethod(blocks.performing_enqueued_jobs)
