"""Mailer actions are typed: ``@action`` lets mypy check the arguments of
``UserMailer.welcome(...)`` and see a ``MessageDelivery`` come back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

CHECKS = Path(__file__).parent.parent / "typing" / "mail_checks.py"


def test_mypy_flags_exactly_the_marked_lines() -> None:
    stdout, stderr, _ = api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-error-summary", str(CHECKS)]
    )
    reported = {
        (int(m.group(1)), m.group(2)) for m in re.finditer(r":(\d+): error: .*\[([\w-]+)\]", stdout)
    }
    expected = {
        (number, m.group(1))
        for number, line in enumerate(CHECKS.read_text().splitlines(), start=1)
        if (m := re.search(r"# E: ([\w-]+)", line))
    }
    assert reported == expected, stdout + stderr
