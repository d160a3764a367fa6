"""Testing code that enqueues jobs, with pytest: `pytest test_accounts_pytest.py`."""

from datetime import timedelta

import pytest
from accounts import FollowUpJob, WelcomeEmailJob, outbox, sign_up

from activejob.testing import (
    TestAdapter,
    assert_enqueued_jobs,
    assert_enqueued_with,
    assert_performed_jobs,
    expect_enqueued_jobs,
    perform_enqueued_jobs,
    performing_enqueued_jobs,
)


@pytest.fixture(autouse=True)
def jobs(activejob_test_adapter: TestAdapter) -> TestAdapter:
    outbox.clear()
    return activejob_test_adapter


def test_sign_up_enqueues_a_welcome_email() -> None:
    sign_up("ada@example.com")
    assert_enqueued_with(job=WelcomeEmailJob, args=("ada@example.com",), queue="mailers")


def test_a_block_counts_only_what_it_enqueues() -> None:
    sign_up("ada@example.com")
    with expect_enqueued_jobs(1, only=WelcomeEmailJob):
        sign_up("grace@example.com")
    assert_enqueued_jobs(2)


def test_the_welcome_email_schedules_a_follow_up() -> None:
    sign_up("ada@example.com")
    perform_enqueued_jobs()
    assert outbox == [("ada@example.com", "Welcome!")]
    assert_enqueued_with(job=FollowUpJob, at=timedelta(days=3))


def test_jobs_run_as_they_are_enqueued_inside_the_block(jobs: TestAdapter) -> None:
    with performing_enqueued_jobs():
        sign_up("grace@example.com")
    assert outbox == [("grace@example.com", "Welcome!"), ("grace@example.com", "How is it going?")]
    assert_performed_jobs(2)
    assert [r.job_class for r in jobs.performed_jobs] == [
        "accounts.WelcomeEmailJob",
        "accounts.FollowUpJob",
    ]
