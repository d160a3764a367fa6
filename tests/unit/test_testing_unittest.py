"""``ActiveJobTestMixin``: a fresh adapter per test, helpers as methods, and a failed
test for a block helper that was never entered. Test cases run through unittest's
own loader and runner."""

from __future__ import annotations

import io
import unittest
from typing import Any

import pytest

import activejob
from activejob import Job
from activejob.adapters.test import TestAdapter
from activejob.config import get_config
from activejob.testing import ActiveJobTestMixin

seen: list[Any] = []


class PingJob(Job):
    def perform(self, n: int) -> None:
        seen.append(("ping", n))


def run_case(case: type[unittest.TestCase]) -> tuple[unittest.TestResult, str]:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    return result, stream.getvalue()


def test_the_mixin_is_not_itself_a_test_case() -> None:
    assert not issubclass(ActiveJobTestMixin, unittest.TestCase)


def test_each_test_gets_a_fresh_adapter_and_the_setting_is_restored() -> None:
    seen.clear()
    activejob.configure(adapter="inline:")

    class Case(ActiveJobTestMixin, unittest.TestCase):
        def setUp(self) -> None:
            super().setUp()
            seen.append(("adapter", self.queue_adapter))

        def test_a(self) -> None:
            self.assertIs(get_config().adapter, self.queue_adapter)
            PingJob.perform_later(1)
            self.assert_enqueued_jobs(1)
            self.assertEqual([r.args for r in self.enqueued_jobs], [(1,)])
            self.perform_enqueued_jobs()
            self.assert_performed_with(job=PingJob, args=(1,))
            self.assertEqual(len(self.performed_jobs), 1)

        def test_b(self) -> None:
            self.assert_no_enqueued_jobs()
            with self.expect_performed_jobs(1):
                PingJob.perform_later(2)
            with self.expect_enqueued_with(job=PingJob) as expected:
                PingJob.perform_later(3)
            self.assertEqual(expected.job.arguments, (3,))
            self.clear_enqueued_jobs()
            self.clear_performed_jobs()
            self.assert_no_performed_jobs()

    result, output = run_case(Case)
    assert result.wasSuccessful() and result.testsRun == 2, output
    adapters = [a for kind, a in seen if kind == "adapter"]
    assert len(adapters) == 2 and adapters[0] is not adapters[1]
    assert all(isinstance(a, TestAdapter) for a in adapters)
    assert get_config().adapter == "inline:"
    assert ("ping", 1) in seen and ("ping", 2) in seen and ("ping", 3) not in seen


def test_a_failing_assertion_is_a_test_failure_listing_the_jobs() -> None:
    class Case(ActiveJobTestMixin, unittest.TestCase):
        def test_fails(self) -> None:
            PingJob.perform_later(5)
            self.assert_enqueued_jobs(2)

    result, output = run_case(Case)
    assert len(result.failures) == 1 and not result.errors
    assert "expected 2 jobs enqueued, got 1" in output
    assert "1. tests.unit.test_testing_unittest.PingJob(5) queue='default'" in output


def test_a_block_helper_never_entered_fails_the_test() -> None:
    class Case(ActiveJobTestMixin, unittest.TestCase):
        def test_forgot_with(self) -> None:
            made = self.expect_enqueued_jobs(1)
            PingJob.perform_later(1)
            self.assertIsNotNone(made)

    with pytest.warns(RuntimeWarning, match=r"expect_enqueued_jobs\(1\) at .* was never used"):
        result, output = run_case(Case)
    # unittest reports an AssertionError raised by a cleanup as a failure of the test
    assert not result.wasSuccessful() and len(result.failures) == 1, output
    assert "expect_enqueued_jobs(1) at " in output
    assert "never used in a `with` statement" in output
    assert get_config().adapter is None  # restored even though the check failed


def test_a_mixin_call_form_used_as_a_block_names_the_block_form() -> None:
    class Case(ActiveJobTestMixin, unittest.TestCase):
        def test_misused(self) -> None:
            with self.assertRaises(TypeError) as info, self.assert_enqueued_jobs(1):
                PingJob.perform_later(6)
            self.assertIn("write `with expect_enqueued_jobs(1):`", str(info.exception))
            with self.assertRaises(TypeError) as info, self.perform_enqueued_jobs():
                pass
            self.assertIn("write `with performing_enqueued_jobs():`", str(info.exception))

    result, output = run_case(Case)
    assert result.wasSuccessful() and result.testsRun == 1, output
