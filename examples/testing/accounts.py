"""The code under test in the testing examples (docs/testing.md): signing up
enqueues a welcome email, which schedules a follow-up."""

from __future__ import annotations

from datetime import timedelta

from activejob import Job

outbox: list[tuple[str, str]] = []
"""Stands in for an email service."""


class WelcomeEmailJob(Job):
    queue_as = "mailers"

    def perform(self, address: str) -> None:
        outbox.append((address, "Welcome!"))
        FollowUpJob.set(wait=timedelta(days=3)).perform_later(address)


class FollowUpJob(Job):
    queue_as = "mailers"

    def perform(self, address: str) -> None:
        outbox.append((address, "How is it going?"))


def sign_up(address: str) -> None:
    # ... create the account, then:
    WelcomeEmailJob.perform_later(address)
