"""When a recurring task runs: cron expressions and ``every N <unit> [at HH:MM]``.

A :class:`Schedule` answers one question for the scheduler: the latest run time
at or before a moment (:meth:`Schedule.latest`), as whole epoch seconds, the
same in every process that reads the same text. :meth:`Schedule.next_after`
gives the following one, for the CLI and the docs.

Cron expressions (five fields, or ``@hourly``, ``@daily``/``@midnight``,
``@weekly``, ``@monthly``, ``@yearly``/``@annually``) are evaluated by
`cronsim <https://github.com/cuu508/cronsim>`_ in the task's time zone, with
Debian cron's rules for daylight saving time: a time that does not exist on a
spring-forward day (02:30 in Europe/Berlin) runs once, at the moment the clocks
jump (03:00); a time that happens twice on a fall-back day runs once, the first
time; a task that runs every hour runs in both repeated hours.

``every N seconds|minutes|hours`` runs every N units of elapsed time, counted
from the Unix epoch (so ``every 15 minutes`` runs at :00, :15, :30 and :45 in
any zone whose offset is whole quarter-hours). ``every N days [at HH:MM]`` runs
at that wall-clock time (00:00 by default) in the task's time zone, on every Nth
day counted from 1970-01-01; a wall-clock time that does not exist that day runs
once, as far past the jump as it was meant to be before it (02:30 runs at 03:30),
and one that happens twice runs once, the first time.

Example::

    parse_schedule("0 3 * * *", "Europe/Berlin").next_after(datetime.now(UTC))
    parse_schedule("every 5 minutes").latest(time.time())
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from datetime import date, datetime, time, timedelta, tzinfo
from datetime import timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from activejob.errors import ConfigurationError

UTC = dt_timezone.utc

__all__ = [
    "ALIASES",
    "CronSchedule",
    "EverySchedule",
    "Schedule",
    "ScheduleError",
    "parse_schedule",
    "zone",
]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""The cron shorthands accepted, and what each stands for."""

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_EVERY = re.compile(
    r"^every\s+(?:(\d+)\s+)?(second|minute|hour|day)s?(?:\s+at\s+(\d{1,2}):(\d{2}))?$",
    re.IGNORECASE,
)


class ScheduleError(ConfigurationError, ValueError):
    """A schedule or time zone that cannot be read; says what is wrong and what works."""


def zone(name: str) -> tzinfo:
    """The time zone called ``name`` (an IANA name such as ``"Europe/Berlin"``, or
    ``"UTC"``), or :class:`ScheduleError`."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from exc


class Schedule(ABC):
    """The run times of a recurring task."""

    text: str
    """The schedule as written."""
    timezone: str
    """The time zone it is read in."""

    @abstractmethod
    def latest(self, moment: float) -> int | None:
        """The latest run time at or before ``moment`` (epoch seconds), or ``None``."""

    @abstractmethod
    def next_after(self, moment: datetime) -> datetime:
        """The first run time strictly after ``moment`` (an aware datetime), in the
        schedule's time zone."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r} {self.timezone}>"


class CronSchedule(Schedule):
    """A five-field cron expression, or an ``@alias``, in a time zone (via cronsim).

    Example::

        CronSchedule("30 2 * * *", "Europe/Berlin")
    """

    def __init__(self, text: str, timezone: str = "UTC") -> None:
        self.text = text
        self.timezone = timezone
        self.tz = zone(timezone)
        expression = ALIASES.get(text.strip().lower(), text.strip())
        if text.strip().startswith("@") and text.strip().lower() not in ALIASES:
            raise ScheduleError(
                f"unknown cron alias {text!r}: use one of {', '.join(sorted(set(ALIASES)))}"
            )
        if len(expression.split()) != 5:
            raise ScheduleError(
                f"bad schedule {text!r}: a cron expression has five fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *'"
            )
        self._cronsim = _cronsim()
        try:
            next(self._cronsim.CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC)))
        except (self._cronsim.CronSimError, StopIteration) as exc:
            raise ScheduleError(f"bad cron expression {text!r}: {exc}") from exc
        self.expression = expression

    def latest(self, moment: float) -> int | None:
        # In reverse cronsim yields times strictly before its start.
        start = datetime.fromtimestamp(math.floor(moment) + 1, self.tz)
        try:
            found = next(self._cronsim.CronSim(self.expression, start, reverse=True))
        except StopIteration:
            return None
        return int(found.timestamp())

    def next_after(self, moment: datetime) -> datetime:
        found: datetime = next(self._cronsim.CronSim(self.expression, moment.astimezone(self.tz)))
        return found


class EverySchedule(Schedule):
    """``every N seconds|minutes|hours|days [at HH:MM]``.

    Example::

        EverySchedule("every 2 days at 04:30", "Europe/Berlin")
    """

    def __init__(self, text: str, timezone: str = "UTC") -> None:
        self.text = text
        self.timezone = timezone
        self.tz = zone(timezone)
        match = _EVERY.match(" ".join(text.split()))
        if match is None:
            raise ScheduleError(
                f"bad schedule {text!r}: write 'every N seconds|minutes|hours|days', "
                "optionally 'every N days at HH:MM', or a cron expression such as '0 3 * * *'"
            )
        count, unit, hour, minute = match.groups()
        self.count = int(count or 1)
        self.unit = unit.lower()
        if self.count < 1:
            raise ScheduleError(f"bad schedule {text!r}: N must be at least 1")
        if hour is not None and self.unit != "day":
            raise ScheduleError(f"bad schedule {text!r}: 'at HH:MM' goes with days only")
        if hour is not None and (int(hour) > 23 or int(minute) > 59):
            raise ScheduleError(f"bad schedule {text!r}: {hour}:{minute} is not a time of day")
        self.at = time(int(hour or 0), int(minute or 0))
        self.period = self.count * _UNITS[self.unit]

    def latest(self, moment: float) -> int | None:
        if self.unit != "day":
            return math.floor(moment / self.period) * self.period
        day = datetime.fromtimestamp(moment, self.tz).date()
        day -= timedelta(days=(day.toordinal() - _EPOCH_DAY) % self.count)
        while True:
            at = self._run_on(day)
            if at <= moment:
                return at
            day -= timedelta(days=self.count)

    def next_after(self, moment: datetime) -> datetime:
        now = moment.timestamp()
        if self.unit != "day":
            at = (math.floor(now / self.period) + 1) * self.period
            return datetime.fromtimestamp(at, self.tz)
        latest = self.latest(now)
        day = datetime.fromtimestamp(latest if latest is not None else now, self.tz).date()
        while True:
            day += timedelta(days=self.count)
            at = self._run_on(day)
            if at > now:
                return datetime.fromtimestamp(at, self.tz)

    def _run_on(self, day: date) -> int:
        """The run time on ``day``, in whole epoch seconds. A naive wall-clock time
        with ``fold=0`` is its first occurrence; one in a gap maps past the jump."""
        return int(datetime.combine(day, self.at, self.tz).timestamp())


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _cronsim() -> Any:
    """The cronsim module, or a :class:`ScheduleError` saying how to install it."""
    try:
        import cronsim
    except ImportError as exc:
        raise ScheduleError(
            "cron schedules need the cronsim package: pip install 'activejob[recurring]' "
            "('every N minutes' schedules work without it)"
        ) from exc
    return cronsim


def parse_schedule(text: str, timezone: str = "UTC") -> Schedule:
    """The :class:`Schedule` that ``text`` describes, read in ``timezone``.

    Raises :class:`ScheduleError` (a ``ConfigurationError``) naming what is wrong.

    Example::

        parse_schedule("@hourly")
        parse_schedule("every 10 seconds")
        parse_schedule("0 9 * * 1-5", "America/New_York")
    """
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError(f"a schedule is a non-empty string, got {text!r}")
    if text.strip().lower().startswith("every"):
        return EverySchedule(text, timezone)
    return CronSchedule(text, timezone)
