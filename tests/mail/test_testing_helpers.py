"""The mail test helpers, beside the job ones: call forms check what the test
did so far, ``with`` forms what a block did; the fixture and the mixin give each
test the ``test:`` delivery and an empty ``deliveries``."""

from __future__ import annotations

import re
import textwrap
import unittest
from pathlib import Path

import pytest

import activejob
import activejob.mail
from activejob.adapters.test import TestAdapter
from activejob.config import get_config
from activejob.mail import (
    assert_emails,
    assert_enqueued_emails,
    assert_no_emails,
    assert_no_enqueued_emails,
    expect_emails,
    expect_enqueued_emails,
    expect_no_emails,
    expect_no_enqueued_emails,
)
from activejob.mail.settings import OPTION
from activejob.testing import ActiveJobTestMixin, perform_enqueued_jobs, use_test_adapter
from tests.mail.mailers import UserMailer
from tests.unit.test_testing_plugin import run_pytest


def test_call_forms_count_what_the_test_did_so_far(activejob_test_adapter: TestAdapter) -> None:
    assert_no_emails()
    assert_no_enqueued_emails()
    UserMailer.typed("a@example.com").deliver_later()
    UserMailer.typed("b@example.com").deliver_later()
    assert len(assert_enqueued_emails(2)) == 2
    assert_no_emails()
    perform_enqueued_jobs()
    assert_no_enqueued_emails()
    (first, second) = assert_emails(2)
    assert (first["To"], second["To"]) == ("a@example.com", "b@example.com")


def test_a_wrong_count_says_what_was_delivered(activejob_test_adapter: TestAdapter) -> None:
    UserMailer.typed("a@example.com").deliver_now()
    with pytest.raises(AssertionError, match="expected 2 emails delivered so far, got 1") as info:
        assert_emails(2)
    assert "to a@example.com: Typed" in str(info.value)
    with pytest.raises(AssertionError, match="expected 0 emails delivered so far, got 1"):
        assert_no_emails()


def test_expect_emails_performs_the_mail_jobs_of_its_block(
    activejob_test_adapter: TestAdapter,
) -> None:
    UserMailer.typed("before@example.com").deliver_later()  # not the block's: left alone
    with expect_emails(2) as expected:
        UserMailer.typed("a@example.com").deliver_later()
        UserMailer.typed("b@example.com").deliver_now()
    assert [m["To"] for m in expected.emails] == ["a@example.com", "b@example.com"]
    assert_enqueued_emails(1)
    with (
        pytest.raises(AssertionError, match="expected 1 email delivered in the block, got 0"),
        expect_emails(1),
    ):
        pass
    with expect_no_emails():
        pass


def test_expect_enqueued_emails_counts_without_performing(
    activejob_test_adapter: TestAdapter,
) -> None:
    with expect_enqueued_emails(1) as expected:
        UserMailer.typed("a@example.com").deliver_later()
    assert len(expected.jobs) == 1
    assert_no_emails()
    with expect_no_enqueued_emails():
        UserMailer.typed("b@example.com").deliver_now()
    with (
        pytest.raises(AssertionError, match="expected 0 emails enqueued in the block, got 1"),
        expect_no_enqueued_emails(),
    ):
        UserMailer.typed("c@example.com").deliver_later()


def test_expect_emails_also_works_without_the_test_adapter() -> None:
    activejob.mail.configure(url="test:")
    with expect_emails(1):
        UserMailer.typed("a@example.com").deliver_now()


def test_a_call_form_used_as_a_block_names_the_block_form(
    activejob_test_adapter: TestAdapter,
) -> None:
    with (
        pytest.raises(TypeError, match=re.escape("write `with expect_emails(1):`")),
        assert_emails(1),
    ):  # type: ignore[attr-defined]
        pass
    with (
        pytest.raises(TypeError, match=re.escape("write `with expect_no_emails():`")),
        assert_no_emails(),
    ):  # type: ignore[attr-defined]
        pass
    with (
        pytest.raises(TypeError, match=re.escape("write `with expect_enqueued_emails(0):`")),
        assert_enqueued_emails(0),
    ):  # type: ignore[attr-defined]
        pass
    # Returned through a helper function, the value refuses the block itself.
    counted = (lambda: assert_no_enqueued_emails())()
    with (
        pytest.raises(TypeError, match=re.escape("write `with expect_no_enqueued_emails():`")),
        counted,
    ):
        pass


def test_use_test_adapter_installs_the_test_delivery_and_empties_deliveries() -> None:
    activejob.mail.configure(url="console:")
    activejob.mail.deliveries.append(activejob.mail.build_message(sender="x@example.com"))
    with use_test_adapter():
        assert get_config().options[OPTION] == "test:"
        assert activejob.mail.deliveries == []
        UserMailer.typed("a@example.com").deliver_now()
        assert len(activejob.mail.deliveries) == 1
    assert activejob.mail.deliveries == []
    assert get_config().options[OPTION] == "console:"


class MixinTest(ActiveJobTestMixin, unittest.TestCase):
    def test_mixin_gives_the_test_delivery(self) -> None:
        assert activejob.mail.deliveries == []
        UserMailer.typed("a@example.com").deliver_later()
        assert_enqueued_emails(1)
        self.perform_enqueued_jobs()
        assert_emails(1)


def test_the_pytest_fixture_empties_deliveries_between_tests(tmp_path: Path) -> None:
    (tmp_path / "test_users.py").write_text(
        textwrap.dedent(
            """
            import activejob.mail
            from activejob.mail import Mailer, assert_emails

            class Hello(Mailer):
                default_from = "shop@example.com"
                def hi(self, to):
                    return self.mail(to=to, subject="hi", text="hi")

            def test_one(activejob_test_adapter):
                Hello.hi("a@example.com").deliver_now()
                assert_emails(1)

            def test_two(activejob_test_adapter):
                Hello.hi("b@example.com").deliver_later()
                activejob.mail.assert_enqueued_emails(1)
                assert_emails(0)
            """
        )
    )
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_block_form_never_entered_fails_the_test(activejob_test_adapter: TestAdapter) -> None:
    from activejob.testing import check_blocks_used

    forgotten = expect_emails(1)  # no `with`: it would check nothing
    with pytest.raises(AssertionError, match=r"expect_emails\(1\) at .*test_testing_helpers"):
        check_blocks_used()
    assert repr(forgotten) == "<expect_emails(1)>"
