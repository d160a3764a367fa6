"""The jobs `make demo` runs: a little shop's background work.

Each shows one thing the worker does: plain and function jobs, an ``async def``
job on the worker's event loop, a job scheduled a few seconds out, a flaky job
that ``retry_on`` brings through, a broken one that is kept as failed, and a
welcome mail that ``deliver_later`` hands to a delivery job.
"""

from __future__ import annotations

import asyncio
import hashlib
from email.message import EmailMessage

import activejob
from activejob import Job, job
from activejob.mail import Mailer


class PaymentGatewayTimeout(Exception):
    """The payment provider did not answer in time (it will, eventually)."""


@job(queue_as="mailers")
def send_welcome_email(address: str) -> str:
    """A plain function as a job."""
    return f"welcome mail to {address}"


class ResizeImageJob(Job):
    """CPU work on a worker thread."""

    queue_as = "media"

    def perform(self, name: str, width: int) -> str:
        digest = hashlib.sha256(name.encode())
        for _ in range(20_000):
            digest = hashlib.sha256(digest.digest())
        return f"{name} at {width}px ({digest.hexdigest()[:8]})"


class FetchFeedJob(Job):
    """I/O on the worker's event loop."""

    queue_as = "default"

    async def perform(self, url: str) -> str:
        await asyncio.sleep(0.2)  # sleep-ok: stands in for a network call
        return f"fetched {url}"


class SendReminderJob(Job):
    """Enqueued with ``set(wait=...)``: runs when due."""

    queue_as = "mailers"

    def perform(self, order_id: int) -> str:
        return f"reminder for order {order_id}"


@activejob.retry_on(PaymentGatewayTimeout, wait=1, attempts=5, jitter=0)
class ChargeCardJob(Job):
    """Fails twice, then succeeds: ``retry_on`` stores each retry in the backend."""

    queue_as = "critical"
    priority = 0

    def perform(self, order_id: int, cents: int) -> str:
        if self.executions <= 2:
            raise PaymentGatewayTimeout(f"gateway timed out (attempt {self.executions})")
        return f"charged {cents / 100:.2f} for order {order_id}"


class ImportCsvJob(Job):
    """Fails for good: kept as failed, with class, message and traceback."""

    queue_as = "default"

    def perform(self, filename: str) -> None:
        raise ValueError(f"{filename}: row 3 has no date")


class ShopMailer(Mailer):
    """``ShopMailer.welcome(...).deliver_later()``: the action runs in the worker."""

    default_from = "Little Shop <shop@example.com>"

    def welcome(self, name: str, address: str) -> EmailMessage:
        return self.mail(
            to=f"{name} <{address}>",
            subject=f"Welcome to the shop, {name}",
            text=f"Hello {name}, your account is ready.",
            html=f"<p>Hello <b>{name}</b>, your account is ready.</p>",
        )
