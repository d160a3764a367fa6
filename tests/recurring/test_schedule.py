"""Schedules: cron (via cronsim) and ``every``, in time zones, across DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from activejob.recurring import ScheduleError, parse_schedule
from activejob.recurring.schedule import ALIASES

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[misc]


def runs(text: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """Every run time in [start, end), as the scheduler would find them tick by tick:
    the latest run at or before each second, deduplicated."""
    schedule = parse_schedule(text, tz)
    found: list[int] = []
    moment = start.timestamp()
    while moment < end.timestamp():
        latest = schedule.latest(moment)
        if latest is not None and latest >= start.timestamp() and latest not in found:
            found.append(latest)
        moment += 60
    return [datetime.fromtimestamp(at, ZoneInfo(tz)) for at in found]


def test_a_daily_cron_task_runs_at_its_local_time() -> None:
    day = runs(
        "30 9 * * *",
        "Europe/Berlin",
        datetime(2026, 1, 5, tzinfo=BERLIN),
        datetime(2026, 1, 8, tzinfo=BERLIN),
    )
    assert [d.isoformat() for d in day] == [
        "2026-01-05T09:30:00+01:00",
        "2026-01-06T09:30:00+01:00",
        "2026-01-07T09:30:00+01:00",
    ]


def test_a_time_skipped_by_spring_forward_runs_once() -> None:
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
    start, end = (
        ny(2026, 3, 7, 12),
        ny(2026, 3, 9, 12),
    )
    found = runs("30 2 * * *", "America/New_York", start, end)
    assert [d.isoformat() for d in found] == [
        "2026-03-08T03:00:00-04:00",  # once, as the clocks jump (Debian cron's rule)
        "2026-03-09T02:30:00-04:00",
    ]


def test_a_time_repeated_by_fall_back_runs_once() -> None:
    # New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    start, end = (
        ny(2026, 10, 31, 12),
        ny(2026, 11, 2, 12),
    )
    found = runs("30 1 * * *", "America/New_York", start, end)
    assert [d.isoformat() for d in found] == [
        "2026-11-01T01:30:00-04:00",  # the first 01:30 only
        "2026-11-02T01:30:00-05:00",
    ]
    # An hourly task runs in both repeated hours: 24 + 1 runs that day.
    day = runs("0 * * * *", "America/New_York", ny(2026, 11, 1), ny(2026, 11, 2))
    assert len(day) == 25


def test_every_n_days_at_a_time_across_both_dst_changes() -> None:
    spring = runs("every day at 02:30", "America/New_York", ny(2026, 3, 7, 12), ny(2026, 3, 9, 12))
    # A wall-clock time in the gap runs once, as far past the jump as it was meant to be.
    assert [d.isoformat() for d in spring] == [
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    autumn = runs(
        "every day at 01:30", "America/New_York", ny(2026, 10, 31, 12), ny(2026, 11, 2, 12)
    )
    assert [d.isoformat() for d in autumn] == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_every_n_days_counts_days_from_the_epoch() -> None:
    found = runs(
        "every 3 days at 04:00",
        "UTC",
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 10, tzinfo=UTC),
    )
    days = [d.date().toordinal() - datetime(1970, 1, 1).toordinal() for d in found]
    assert len(found) == 3 and all(day % 3 == 0 for day in days)
    assert all((d.hour, d.minute) == (4, 0) for d in found)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("every 10 seconds", 10),
        ("every 5 minutes", 300),
        ("every 2 hours", 7200),
        ("every minute", 60),
        ("Every 1 Hour", 3600),
    ],
)
def test_every_n_units_is_aligned_to_the_epoch(text: str, period: int) -> None:
    schedule = parse_schedule(text, "Europe/Berlin")
    moment = datetime(2026, 5, 4, 13, 7, 41, 500000, tzinfo=UTC).timestamp()
    latest = schedule.latest(moment)
    assert latest is not None and latest % period == 0 and moment - period < latest <= moment
    after = schedule.next_after(datetime.fromtimestamp(moment, UTC))
    assert after.timestamp() == latest + period


def test_latest_includes_the_exact_run_time_and_next_after_excludes_it() -> None:
    schedule = parse_schedule("0 3 * * *")
    three = datetime(2026, 1, 1, 3, tzinfo=UTC)
    assert schedule.latest(three.timestamp()) == three.timestamp()
    assert schedule.latest(three.timestamp() - 1) == (three - timedelta(days=1)).timestamp()
    assert schedule.next_after(three) == three + timedelta(days=1)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_cron_aliases(alias: str) -> None:
    assert parse_schedule(alias).latest(datetime(2026, 6, 15, 12, 30, tzinfo=UTC).timestamp())
    assert parse_schedule(alias.upper()).expression == ALIASES[alias]  # type: ignore[attr-defined]


def test_weekly_and_hourly_mean_what_cron_means() -> None:
    monday = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)  # a Monday
    assert parse_schedule("@weekly").next_after(monday) == datetime(2026, 6, 21, tzinfo=UTC)
    assert parse_schedule("@hourly").next_after(monday) == datetime(2026, 6, 15, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "timezone_name", "message"),
    [
        ("0 3 * *", "UTC", "five fields"),
        ("0 3 * * * *", "UTC", "five fields"),
        ("61 3 * * *", "UTC", "bad cron expression"),
        ("@fortnightly", "UTC", "unknown cron alias"),
        ("every 0 minutes", "UTC", "at least 1"),
        ("every 5 weeks", "UTC", "bad schedule"),
        ("every 2 hours at 10:00", "UTC", "days only"),
        ("every day at 25:00", "UTC", "not a time of day"),
        ("", "UTC", "non-empty"),
        ("0 3 * * *", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text: str, timezone_name: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text, timezone_name)
