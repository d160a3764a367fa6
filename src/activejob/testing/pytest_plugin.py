"""The pytest plugin (entry point ``activejob`` in ``pytest11``): the
``activejob_test_adapter`` fixture.

Loaded by pytest wherever activejob is installed, so it imports nothing but
pytest until a test asks for the fixture::

    from activejob.testing import assert_enqueued_with

    def test_sign_up(activejob_test_adapter):
        sign_up("a@example.com")
        assert_enqueued_with(job=WelcomeEmailJob, args=("a@example.com",))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from activejob.adapters.test import TestAdapter

__all__ = ["activejob_test_adapter"]


@pytest.fixture
def activejob_test_adapter() -> Iterator[TestAdapter]:
    """A fresh test adapter, configured for the test and restored after it.

    Job classes that name their own ``queue_adapter`` use it too during the
    test. The test fails if a block helper (``expect_...``,
    ``performing_enqueued_jobs``) was never used in a ``with`` statement.
    """
    from activejob.testing import session

    session.forget_unused_blocks()
    with session.use_test_adapter() as adapter:
        yield adapter
    session.check_blocks_used()
