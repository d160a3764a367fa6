"""Which recorded jobs a helper looks at: ``only=``/``except_=``/``queue=``/``at=``
(:class:`Selection`), and what ``assert_enqueued_with`` expects (:class:`Criteria`).

A job is named by its class, its ``@job`` function or its payload name
(``"myapp.jobs.ReportJob"``); names are compared, so a class redefined by a test
still matches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypedDict

from activejob import _time
from activejob.adapters.test import RecordedJob, Selector
from activejob.job.core import JobCore
from activejob.job.function import JobFunction

__all__ = [
    "AT_TOLERANCE",
    "Criteria",
    "CriteriaKeywords",
    "JobFilter",
    "JobRef",
    "Moment",
    "PerformSelectionKeywords",
    "Selection",
    "SelectionKeywords",
    "criteria_of",
    "selection_of",
]

JobRef = type[JobCore] | JobFunction[Any, Any] | str
"""A job class, an ``@job`` function, or a job class's payload name."""
JobFilter = JobRef | list[JobRef] | tuple[JobRef, ...] | set[JobRef] | Selector
"""What ``only=`` and ``except_=`` take: a job, several, or a predicate on a
:class:`~activejob.adapters.test.RecordedJob`."""
Moment = datetime | timedelta | float | int
"""A time: a datetime (naive means local time), a timedelta from now, or epoch seconds."""


class SelectionKeywords(TypedDict, total=False):
    """The filters of the counting helpers (``assert_enqueued_jobs``,
    ``expect_no_performed_jobs``, ...), declared once: they take
    ``**selection: Unpack[SelectionKeywords]``. A new filter is added here and as a
    parameter of :class:`Selection`."""

    only: JobFilter | None
    except_: JobFilter | None
    queue: str | None


class PerformSelectionKeywords(SelectionKeywords, total=False):
    """The filters of ``perform_enqueued_jobs`` and ``performing_enqueued_jobs``:
    those of :class:`SelectionKeywords` and ``at``."""

    at: Moment | None


class CriteriaKeywords(TypedDict, total=False):
    """What ``assert_enqueued_with`` and its three siblings look for, declared once
    (``**criteria: Unpack[CriteriaKeywords]``); a new criterion is added here and
    as a parameter of :class:`Criteria`."""

    job: JobRef | None
    args: tuple[Any, ...] | list[Any] | Callable[[tuple[Any, ...]], bool] | None
    kwargs: dict[str, Any] | Callable[[dict[str, Any]], bool] | None
    queue: str | Callable[[str], bool] | None
    priority: int | Callable[[int | None], bool] | None
    at: Moment | Callable[[datetime | None], bool] | None


AT_TOLERANCE = 1.0
"""Seconds by which a job's scheduled time may differ from ``at=`` and still match
(the clock moves while a test runs; pass a callable for an exact check)."""


def class_name(ref: JobRef) -> str:
    """The payload name of a job class, ``@job`` function or name."""
    if isinstance(ref, str):
        return ref
    if isinstance(ref, JobFunction):
        return ref.job_class.job_class_name
    if isinstance(ref, type) and issubclass(ref, JobCore):
        return ref.job_class_name
    raise TypeError(f"expected a Job class, an @job function or a job class name, got {ref!r}")


def timestamp(moment: Moment) -> float:
    """Epoch seconds for a :data:`Moment`."""
    if isinstance(moment, datetime):
        return moment.timestamp()
    if isinstance(moment, timedelta):
        return _time.now() + moment.total_seconds()
    if isinstance(moment, (int, float)) and not isinstance(moment, bool):
        return float(moment)
    raise TypeError(f"expected a datetime, a timedelta or epoch seconds, got {moment!r}")


def _describe_value(value: Any) -> str:
    if isinstance(value, (type, JobFunction)):
        return class_name(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_describe_value(v) for v in value) + "]"
    if callable(value):
        return f"<{getattr(value, '__qualname__', type(value).__name__)}>"
    return repr(value)


def _describe_expected(value: Any) -> str:
    if callable(value):
        return f"<{getattr(value, '__qualname__', type(value).__name__)}>"
    return repr(value)


def _job_predicate(value: JobFilter, option: str) -> Selector:
    if isinstance(value, (str, type, JobFunction)):
        names = {class_name(value)}
    elif isinstance(value, (list, tuple, set, frozenset)):
        names = {class_name(v) for v in value}
    elif callable(value):
        return value
    else:
        raise TypeError(f"{option}= takes job classes or a predicate, got {value!r}")
    return lambda recorded: recorded.job_class in names


class Selection:
    """The ``only=``, ``except_=``, ``queue=`` and ``at=`` filters of a helper, as a
    predicate on recorded jobs.

    ``at`` keeps jobs due at or before that time (jobs not scheduled always are).

    Example::

        Selection(only=ReportJob, queue="low")(adapter.enqueued_jobs[0])
    """

    def __init__(
        self,
        only: JobFilter | None = None,
        except_: JobFilter | None = None,
        queue: str | None = None,
        at: Moment | None = None,
    ) -> None:
        if only is not None and except_ is not None:
            raise ValueError("give only= or except_=, not both")
        self._only = None if only is None else _job_predicate(only, "only")
        self._except = None if except_ is None else _job_predicate(except_, "except_")
        self._queue = queue
        self._at = None if at is None else timestamp(at)
        shown = {"only": only, "except_": except_, "queue": queue, "at": at}
        self._text = ", ".join(
            f"{k}={_describe_value(v)}" for k, v in shown.items() if v is not None
        )

    def __call__(self, recorded: RecordedJob) -> bool:
        if self._only is not None and not self._only(recorded):
            return False
        if self._except is not None and self._except(recorded):
            return False
        if self._queue is not None and recorded.queue_name != self._queue:
            return False
        return not (self._at is not None and recorded.at is not None and recorded.at > self._at)

    def describe(self) -> str:
        """The filters as given (``"only=myapp.ReportJob, queue='low'"``), or ``""``."""
        return self._text


class Criteria:
    """What ``assert_enqueued_with`` / ``assert_performed_with`` look for.

    Each criterion left as ``None`` is not checked; each may be a callable that
    receives the job's value (``args`` tuple, ``kwargs`` dict, queue name,
    priority, scheduled datetime or ``None``) and returns whether it matches.
    ``at`` matches within :data:`AT_TOLERANCE` seconds.
    """

    def __init__(
        self,
        job: JobRef | None = None,
        args: tuple[Any, ...] | list[Any] | Callable[[tuple[Any, ...]], bool] | None = None,
        kwargs: dict[str, Any] | Callable[[dict[str, Any]], bool] | None = None,
        queue: str | Callable[[str], bool] | None = None,
        priority: int | Callable[[int | None], bool] | None = None,
        at: Moment | Callable[[datetime | None], bool] | None = None,
    ) -> None:
        self._job = None if job is None else class_name(job)
        self._at_check = at if callable(at) else None
        self._at_time = None if at is None or callable(at) else timestamp(at)
        if args is not None and not callable(args):
            args = tuple(args)
        self._checks: dict[str, tuple[Any, Callable[[RecordedJob], Any]]] = {}
        for name, expected, read in (
            ("args", args, lambda r: r.args),
            ("kwargs", kwargs, lambda r: r.kwargs),
            ("queue", queue, lambda r: r.queue_name),
            ("priority", priority, lambda r: r.priority),
        ):
            if expected is not None:
                self._checks[name] = (expected, read)
        shown: dict[str, Any] = {"job": self._job, "args": args, "kwargs": kwargs, "queue": queue}
        shown.update(priority=priority, at=at)
        self._text = ", ".join(
            f"{k}={v if k == 'job' else _describe_expected(v)}"
            for k, v in shown.items()
            if v is not None
        )

    def mismatches(self, recorded: RecordedJob) -> list[str]:
        """The names of the criteria ``recorded`` does not meet (empty: it matches)."""
        wrong: list[str] = []
        if self._job is not None and recorded.job_class != self._job:
            return ["job"]  # the rest would only add noise
        for name, (expected, read) in self._checks.items():
            try:
                actual = read(recorded)
            except Exception as exc:
                wrong.append(f"{name} (unreadable: {type(exc).__name__}: {exc})")
                continue
            if not (expected(actual) if callable(expected) else expected == actual):
                wrong.append(name)
        if not self._at_matches(recorded):
            wrong.append("at")
        return wrong

    def _at_matches(self, recorded: RecordedJob) -> bool:
        if self._at_check is not None:
            return bool(self._at_check(recorded.scheduled_at))
        if self._at_time is None:
            return True
        return recorded.at is not None and abs(recorded.at - self._at_time) <= AT_TOLERANCE

    def describe(self) -> str:
        """The criteria as given, for messages."""
        return self._text or "(any job)"

    def given(self) -> str:
        """The criteria as keyword arguments (``"job=myapp.ReportJob, args=(1,)"``), or ``""``."""
        return self._text


def _refuse_unknown(helper: str, given: Mapping[str, Any], keywords: Any) -> None:
    # The helpers take **keywords: say what Python says for an unknown one, naming
    # the helper, not the class behind it.
    allowed = keywords.__required_keys__ | keywords.__optional_keys__
    for name in given:
        if name not in allowed:
            raise TypeError(f"{helper}() got an unexpected keyword argument {name!r}")


def selection_of(helper: str, given: Mapping[str, Any], *, at: bool = False) -> Selection:
    """The :class:`Selection` of ``helper``'s keywords (``at=`` only when ``at``).

    Example::

        selection_of("assert_enqueued_jobs", {"only": ReportJob})
    """
    _refuse_unknown(helper, given, PerformSelectionKeywords if at else SelectionKeywords)
    return Selection(**given)


def criteria_of(helper: str, given: Mapping[str, Any]) -> Criteria:
    """The :class:`Criteria` of ``helper``'s keywords.

    Example::

        criteria_of("assert_enqueued_with", {"job": ReportJob, "args": (42,)})
    """
    _refuse_unknown(helper, given, CriteriaKeywords)
    return Criteria(**given)
