"""A call form used as a ``with`` block fails with a message naming the block form.

``with assert_enqueued_jobs(1):`` reads naturally to someone coming from Rails'
``assert_enqueued_jobs 1 do ... end``, but the call form checks at once what the
test has done so far; the block form is ``expect_enqueued_jobs``. Two guards
turn the mistake into a ``TypeError`` that says so:

- :func:`refuse_as_block` runs before the helper checks or performs anything: when
  the calling line opens a ``with`` statement on this call, it raises at once (so
  neither a count mismatch nor a generic "not a context manager" error is what the
  test reports, and ``perform_enqueued_jobs`` runs nothing). It reads the caller's
  next bytecode instruction, for the Python versions we support; where it cannot
  tell, it stays silent.
- The values the count checks and ``perform_enqueued_jobs`` return
  (:class:`MatchedJobs`, :class:`PerformedCount`) raise the same error from
  ``__enter__``, for a call the first guard could not see (one made in a helper
  function that returns it into a ``with``).
"""

from __future__ import annotations

import dis
import sys
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from activejob.adapters.test import RecordedJob

__all__ = ["MatchedJobs", "PerformedCount", "block_form_message", "refuse_as_block"]

BLOCK_FORMS = {
    "assert_enqueued_jobs": "expect_enqueued_jobs",
    "assert_no_enqueued_jobs": "expect_no_enqueued_jobs",
    "assert_performed_jobs": "expect_performed_jobs",
    "assert_no_performed_jobs": "expect_no_performed_jobs",
    "assert_enqueued_with": "expect_enqueued_with",
    "assert_performed_with": "expect_performed_with",
    "perform_enqueued_jobs": "performing_enqueued_jobs",
    "assert_emails": "expect_emails",
    "assert_no_emails": "expect_no_emails",
    "assert_enqueued_emails": "expect_enqueued_emails",
    "assert_no_enqueued_emails": "expect_no_enqueued_emails",
}
"""Each call form and the name of its ``with`` form."""

# The instruction that follows the call of a `with` statement's context expression:
# SETUP_WITH (3.10), BEFORE_WITH (3.11-3.13); 3.14 starts with COPY, LOAD_SPECIAL.
_OPENS_WITH = frozenset({"SETUP_WITH", "BEFORE_WITH", "SETUP_ASYNC_WITH", "BEFORE_ASYNC_WITH"})


def block_form_message(helper: str, shown: str) -> str:
    """The error text for ``helper(shown)`` used as a ``with`` block.

    Example::

        block_form_message("assert_enqueued_jobs", "1")
        # "assert_enqueued_jobs(1) is the call form ... write `with expect_enqueued_jobs(1):`"
    """
    block = BLOCK_FORMS[helper]
    if helper == "perform_enqueued_jobs":
        return (
            f"perform_enqueued_jobs({shown}) runs the jobs enqueued so far, at once; it is not "
            f"a context manager. To run the jobs a block enqueues as they are enqueued, write "
            f"`with {block}({shown}):`"
        )
    return (
        f"{helper}({shown}) is the call form: it checks at once what the test has done so far "
        f"and is not a context manager. To check only what a block does, write "
        f"`with {block}({shown}):`"
    )


def refuse_as_block(helper: str, shown: str) -> None:
    """Raise ``TypeError`` naming the block form if the code calling ``helper``
    (the first frame outside ``activejob.testing``) uses the call as the context
    expression of a ``with`` statement."""
    frame = _caller()
    if frame is not None and _opens_with(frame):
        raise TypeError(block_form_message(helper, shown))


def _caller() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
        "activejob.testing"
    ):
        frame = frame.f_back
    return frame


def _opens_with(frame: FrameType) -> bool:
    following = []
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset > frame.f_lasti:
            following.append(instruction.opname)
            if len(following) == 2:
                break
    if not following:
        return False
    if following[0] in _OPENS_WITH:
        return True
    return following == ["COPY", "LOAD_SPECIAL"]


class _NotABlock:
    """Refuses ``with`` (and ``async with``) with the message naming the block form."""

    _helper = ""
    _shown = ""

    def __enter__(self) -> NoReturn:
        raise TypeError(block_form_message(self._helper, self._shown))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> NoReturn:
        raise TypeError(block_form_message(self._helper, self._shown))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class MatchedJobs(_NotABlock, list["RecordedJob"]):
    """What a count check returns: the recorded jobs it counted (a list).

    Example::

        (recorded,) = assert_enqueued_jobs(1, only=ReportJob)
    """

    def __init__(self, jobs: list[RecordedJob], helper: str, shown: str) -> None:
        super().__init__(jobs)
        self._helper = helper
        self._shown = shown


class PerformedCount(_NotABlock, int):
    """What ``perform_enqueued_jobs()`` returns: how many jobs ran (an int).

    Example::

        assert perform_enqueued_jobs() == 2
    """

    _helper = "perform_enqueued_jobs"

    def __new__(cls, count: int, shown: str) -> PerformedCount:
        made = super().__new__(cls, count)
        made._shown = shown
        return made
