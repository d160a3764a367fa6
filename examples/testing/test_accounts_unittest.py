"""Testing code that enqueues jobs, with unittest: `python -m unittest test_accounts_unittest`."""

import unittest
from datetime import timedelta

from accounts import FollowUpJob, WelcomeEmailJob, outbox, sign_up

from activejob.testing import ActiveJobTestMixin


class SignUpTest(ActiveJobTestMixin, unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()  # installs a fresh test adapter
        outbox.clear()

    def test_sign_up_enqueues_a_welcome_email(self) -> None:
        sign_up("ada@example.com")
        self.assert_enqueued_with(job=WelcomeEmailJob, args=("ada@example.com",))
        self.assertEqual(len(self.enqueued_jobs), 1)

    def test_a_block_counts_only_what_it_enqueues(self) -> None:
        sign_up("ada@example.com")
        with self.expect_enqueued_jobs(1, only=WelcomeEmailJob):
            sign_up("grace@example.com")
        self.assert_enqueued_jobs(2)

    def test_the_welcome_email_schedules_a_follow_up(self) -> None:
        sign_up("ada@example.com")
        self.perform_enqueued_jobs()
        self.assertEqual(outbox, [("ada@example.com", "Welcome!")])
        self.assert_enqueued_with(job=FollowUpJob, at=timedelta(days=3))

    def test_a_block_performs_what_it_enqueues(self) -> None:
        with self.expect_performed_jobs(2):
            sign_up("grace@example.com")
        self.assertEqual(
            outbox, [("grace@example.com", "Welcome!"), ("grace@example.com", "How is it going?")]
        )


if __name__ == "__main__":
    unittest.main()
