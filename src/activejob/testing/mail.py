"""Test helpers for mail, beside the job ones (Rails' ``ActionMailer::TestHelper``).

================================  ===================================================
checks what the test did so far    looks only at what a ``with`` block did
================================  ===================================================
``assert_emails(n)``               ``expect_emails(n)`` (performs the mail jobs)
``assert_no_emails()``             ``expect_no_emails()`` (performs the mail jobs)
``assert_enqueued_emails(n)``      ``expect_enqueued_emails(n)``
``assert_no_enqueued_emails()``    ``expect_no_enqueued_emails()``
================================  ===================================================

Delivered means taken by the ``test:`` delivery, into ``activejob.mail.deliveries``;
the ``activejob_test_adapter`` fixture and ``ActiveJobTestMixin`` configure it and
empty the list for each test. Enqueued means a delivery job on the test adapter.

Example::

    def test_sign_up(activejob_test_adapter):
        with expect_enqueued_emails(1):
            UserMailer.welcome(user).deliver_later()
        with expect_emails(1):            # the mail jobs of the block are performed
            UserMailer.welcome(user).deliver_later()
        assert activejob.mail.deliveries[-1]["Subject"] == "Welcome"
"""

from __future__ import annotations

import contextlib
from email.message import EmailMessage
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from activejob.adapters.test import RecordedJob, TestAdapter
from activejob.config import get_config
from activejob.testing import session
from activejob.testing.callform import MatchedJobs, _NotABlock, refuse_as_block

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = [
    "DeliveredEmails",
    "MailCountExpectation",
    "assert_emails",
    "assert_enqueued_emails",
    "assert_no_emails",
    "assert_no_enqueued_emails",
    "expect_emails",
    "expect_enqueued_emails",
    "expect_no_emails",
    "expect_no_enqueued_emails",
    "is_mail_job",
]

Kind = Literal["delivered", "enqueued"]


class DeliveredEmails(_NotABlock, list[EmailMessage]):
    """What ``assert_emails`` returns: the messages it counted (a list)."""

    def __init__(self, messages: list[EmailMessage], helper: str, shown: str) -> None:
        super().__init__(messages)
        self._helper = helper
        self._shown = shown


def _deliveries() -> list[EmailMessage]:
    from activejob.mail.deliveries.test import deliveries

    return deliveries


def is_mail_job(recorded: RecordedJob) -> bool:
    """Whether a recorded job delivers mail (a ``DeliveryJob`` subclass)."""
    from activejob.job import registry
    from activejob.mail.delivery import DeliveryJob

    try:
        cls = registry.lookup(recorded.job_class)
    except Exception:
        return False
    return issubclass(cls, DeliveryJob)


def _describe(message: EmailMessage) -> str:
    return f"to {message.get('To', '(nobody)')!s}: {message.get('Subject', '')!s}"


def _check(
    kind: Kind, expected: int, found: list[EmailMessage] | list[RecordedJob], scope: str
) -> None:
    __tracebackhide__ = True
    if len(found) == expected:
        return
    noun = "email" if expected == 1 else "emails"
    if kind == "delivered":
        listed = "".join(f"\n  {_describe(m)}" for m in found if isinstance(m, EmailMessage))
    else:
        listed = "".join(f"\n  {r.job_class} {r.args}" for r in found if isinstance(r, RecordedJob))
    raise AssertionError(
        f"expected {expected} {noun} {kind}{scope}, got {len(found)}{':' if listed else ''}{listed}"
    )


def _enqueued_mail_jobs(adapter: TestAdapter) -> list[RecordedJob]:
    return [r for r in adapter.enqueued_jobs if is_mail_job(r)]


def assert_emails(number: int) -> DeliveredEmails:
    """Assert that ``number`` emails have been delivered (to ``deliveries``) so
    far in this test; returns them. For a block, ``with expect_emails(n):``.

    Example::

        UserMailer.welcome(user).deliver_now()
        assert_emails(1)
    """
    __tracebackhide__ = True
    refuse_as_block("assert_emails", str(number))
    found = list(_deliveries())
    _check("delivered", number, found, " so far")
    return DeliveredEmails(found, "assert_emails", str(number))


def assert_no_emails() -> DeliveredEmails:
    """Assert that no email has been delivered so far in this test.

    Example::

        assert_no_emails()
    """
    __tracebackhide__ = True
    refuse_as_block("assert_no_emails", "")
    found = list(_deliveries())
    _check("delivered", 0, found, " so far")
    return DeliveredEmails(found, "assert_no_emails", "")


def assert_enqueued_emails(number: int) -> MatchedJobs:
    """Assert that ``number`` delivery jobs are enqueued (on the test adapter) and
    not performed yet; returns them. For a block, ``with expect_enqueued_emails(n):``.

    Example::

        UserMailer.welcome(user).deliver_later()
        assert_enqueued_emails(1)
    """
    __tracebackhide__ = True
    refuse_as_block("assert_enqueued_emails", str(number))
    found = _enqueued_mail_jobs(session.current_adapter())
    _check("enqueued", number, found, "")
    return MatchedJobs(found, "assert_enqueued_emails", str(number))


def assert_no_enqueued_emails() -> MatchedJobs:
    """Assert that no delivery job is enqueued.

    Example::

        assert_no_enqueued_emails()
    """
    __tracebackhide__ = True
    refuse_as_block("assert_no_enqueued_emails", "")
    found = _enqueued_mail_jobs(session.current_adapter())
    _check("enqueued", 0, found, "")
    return MatchedJobs(found, "assert_no_enqueued_emails", "")


class MailCountExpectation:
    """Made by :func:`expect_emails` and friends; after the block, ``emails`` holds
    the messages delivered in it and ``jobs`` the delivery jobs it enqueued."""

    def __init__(self, helper: str, kind: Kind, number: int) -> None:
        self._description = f"{helper}({number if helper.count('_no_') == 0 else ''})"
        self._kind = kind
        self._number = number
        self._entered = False
        self._ticket = session.track_block(f"{self._description} at {session.caller_location()}")
        self._performing: AbstractContextManager[None] | None = None
        self.emails: list[EmailMessage] = []
        self.jobs: list[RecordedJob] = []

    def __enter__(self) -> MailCountExpectation:
        self._entered = True
        session.block_entered(self._ticket)
        adapter = get_config().adapter
        self._adapter = adapter if isinstance(adapter, TestAdapter) else None
        if self._kind == "enqueued":
            self._adapter = session.current_adapter()
        self._marks = (len(_deliveries()), self._adapter.enqueued_total if self._adapter else 0)
        if self._kind == "delivered" and self._adapter is not None:
            self._performing = self._adapter.performing(is_mail_job)
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
        delivered_mark, enqueued_mark = self._marks
        self.emails = list(_deliveries()[delivered_mark:])
        if self._adapter is not None:
            self.jobs = [
                r for r in _enqueued_mail_jobs(self._adapter) if r.enqueued_index >= enqueued_mark
            ]
        if exc_type is not None:  # the block's own exception is the news, not our check
            return
        found = self.emails if self._kind == "delivered" else self.jobs
        _check(self._kind, self._number, found, " in the block")

    def __del__(self) -> None:
        ticket = getattr(self, "_ticket", None)
        if ticket is None or getattr(self, "_entered", True) or not session.is_unused(ticket):
            return
        with contextlib.suppress(Exception):
            import warnings

            warnings.warn(
                f"{session.describe_block(ticket)} was never used in a `with` statement, "
                "so it checked nothing",
                RuntimeWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"<{self._description}>"


def expect_emails(number: int) -> MailCountExpectation:
    """Expect the block to deliver ``number`` emails. On the test adapter, the
    delivery jobs the block enqueues are performed at once (as Rails'
    ``assert_emails`` with a block does), so ``deliver_later`` counts too.

    Example::

        with expect_emails(2):
            UserMailer.welcome(ada).deliver_later()
            UserMailer.welcome(bob).deliver_now()
    """
    return MailCountExpectation("expect_emails", "delivered", number)


def expect_no_emails() -> MailCountExpectation:
    """Expect the block to deliver no email (its delivery jobs are performed).

    Example::

        with expect_no_emails():
            update_profile(user)
    """
    return MailCountExpectation("expect_no_emails", "delivered", 0)


def expect_enqueued_emails(number: int) -> MailCountExpectation:
    """Expect the block to enqueue ``number`` delivery jobs (not performed).

    Example::

        with expect_enqueued_emails(1):
            UserMailer.welcome(user).deliver_later()
    """
    return MailCountExpectation("expect_enqueued_emails", "enqueued", number)


def expect_no_enqueued_emails() -> MailCountExpectation:
    """Expect the block to enqueue no delivery job.

    Example::

        with expect_no_enqueued_emails():
            update_profile(user)
    """
    return MailCountExpectation("expect_no_enqueued_emails", "enqueued", 0)
