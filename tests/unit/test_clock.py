"""``activejob._time``: the one clock, which tests may replace."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from activejob import Job, _time
from tests.support import RecordingAdapter

NOON = datetime(2026, 12, 6, 12, 0, 0, 250000, tzinfo=timezone.utc)


class ClockJob(Job):
    queue_adapter = RecordingAdapter()

    def perform(self) -> None:
        pass


def test_utcnow_reads_the_system_clock_in_utc() -> None:
    before = datetime.now(timezone.utc)
    moment = _time.utcnow()
    after = datetime.now(timezone.utc)
    assert moment.tzinfo is timezone.utc
    assert before <= moment <= after


def test_a_replaced_clock_drives_utcnow_and_enqueued_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_time, "now", lambda: NOON.timestamp())
    assert _time.utcnow() == NOON
    job = ClockJob.perform_later()
    assert job.enqueued_at == NOON
    assert job.serialize()["enqueued_at"] == "2026-12-06T12:00:00.250000+00:00"
