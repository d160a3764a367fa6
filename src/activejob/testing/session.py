"""Where the helpers find their adapter, how a test installs one, and the guard
against block helpers that were never used in a ``with`` statement.

The helpers work on the configured adapter, which must be a
:class:`~activejob.adapters.test.TestAdapter`: the pytest fixture, the unittest
mixin and :func:`use_test_adapter` install a fresh one for each test.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from activejob.adapters import scheme_of
from activejob.adapters.cache import resolve_adapter
from activejob.adapters.test import TestAdapter
from activejob.config import get_config
from activejob.errors import ConfigurationError
from activejob.job import registry

__all__ = ["check_blocks_used", "current_adapter", "forget_unused_blocks", "use_test_adapter"]

_HOW = (
    "use the activejob_test_adapter pytest fixture, ActiveJobTestMixin, "
    "`with activejob.testing.use_test_adapter():` or activejob.configure(adapter='test:')"
)


def current_adapter() -> TestAdapter:
    """The configured adapter, which the helpers need to be a ``TestAdapter``.

    Example::

        current_adapter().enqueued_jobs
    """
    setting = get_config().adapter_url()
    # Check a URL before resolving it, so a misconfigured test opens no connection.
    if isinstance(setting, str) and scheme_of(setting) != "test":
        raise ConfigurationError(
            f"activejob.testing needs the test adapter, not {setting!r}: {_HOW}"
        )
    adapter = resolve_adapter()
    if not isinstance(adapter, TestAdapter):
        raise ConfigurationError(f"activejob.testing needs the test adapter, not {adapter}: {_HOW}")
    return adapter


@contextmanager
def use_test_adapter(adapter: TestAdapter | None = None) -> Iterator[TestAdapter]:
    """Make a fresh (or the given) ``TestAdapter`` the configured adapter for the
    block, and the adapter of every job class that names its own; restore the
    previous settings after. Adapters already built from URLs are left running and
    come back as they were. Mail goes to the ``test:`` delivery meanwhile, and
    ``activejob.mail.deliveries`` is emptied on the way in and out.

    Job classes defined inside the block keep their own ``queue_adapter``.

    Example::

        with use_test_adapter() as adapter:
            ReportJob.perform_later(42)
        assert len(adapter.enqueued_jobs) == 1
    """
    adapter = TestAdapter() if adapter is None else adapter
    previous = get_config().adapter
    own: list[tuple[type[Any], Any]] = [
        (cls, cls.__dict__["queue_adapter"])
        for cls in registry.registered().values()
        if cls.__dict__.get("queue_adapter") is not None
    ]
    for cls, _ in own:
        cls.queue_adapter = adapter
    # Set, not configure(): that would shut down the adapters the app built from
    # URLs (an async: pool with jobs in it), and the test would get new ones after.
    config = get_config()
    config.adapter = adapter
    previous_mail = config.options.get(_MAIL_OPTION)
    config.options[_MAIL_OPTION] = "test:"
    _clear_deliveries()
    try:
        yield adapter
    finally:
        config.adapter = previous
        _clear_deliveries()
        if previous_mail is None:
            config.options.pop(_MAIL_OPTION, None)
        else:
            config.options[_MAIL_OPTION] = previous_mail
        for cls, value in own:
            cls.queue_adapter = value


_MAIL_OPTION = "mail_url"  # activejob.mail.settings.OPTION, named here so no mail code loads


def _clear_deliveries() -> None:
    """Empty ``activejob.mail.deliveries`` in place, if mail is in use at all."""
    collected = sys.modules.get("activejob.mail.deliveries.test")
    if collected is not None:
        collected.deliveries.clear()


# -- block helpers that were never entered ---------------------------------------------

_unused: dict[int, str] = {}
_unused_lock = threading.Lock()
_serial = 0


def track_block(description: str) -> int:
    """Remember a new block helper (``description`` says what and where) until it
    is entered; returns its ticket."""
    global _serial
    with _unused_lock:
        _serial += 1
        _unused[_serial] = description
        return _serial


def block_entered(ticket: int) -> None:
    """The block helper with this ticket was used in a ``with`` statement."""
    with _unused_lock:
        _unused.pop(ticket, None)


def is_unused(ticket: int) -> bool:
    """Whether the block helper with this ticket was never entered."""
    return ticket in _unused


def describe_block(ticket: int) -> str:
    """What :func:`track_block` was told about this ticket."""
    return _unused.get(ticket, "a block helper")


def forget_unused_blocks() -> None:
    """Drop the record of block helpers not entered so far (a new test starts)."""
    with _unused_lock:
        _unused.clear()


def check_blocks_used() -> None:
    """Fail if a block helper was created but never used in a ``with`` statement:
    such a helper checked nothing. The fixture and the mixin call this after each test.

    Example::

        expect_enqueued_jobs(1)      # forgot `with`: this test must not pass
        check_blocks_used()          # AssertionError naming the line above
    """
    __tracebackhide__ = True
    with _unused_lock:
        found = list(_unused.values())
        _unused.clear()
    if found:
        lines = "\n".join(f"  {text}" for text in found)
        raise AssertionError(
            "block helper(s) never used in a `with` statement, so they checked nothing:\n"
            f"{lines}\nwrite `with expect_...(...):` around the code, or use the assert_... "
            "form to check what the test has done so far"
        )


def caller_location() -> str:
    """``file:line`` of the first caller outside ``activejob.testing``."""
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
        "activejob.testing"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
