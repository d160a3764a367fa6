"""The checks behind the assertions, and failure messages that show the jobs.

Every failure lists what was actually enqueued or performed, job by job, so a
failing test explains itself::

    expected 2 enqueued jobs matching only=myapp.jobs.ReportJob, got 1
    enqueued jobs (2; * = matches):
      * 1. myapp.jobs.ReportJob(42) queue='reports'
        2. myapp.jobs.MailJob('a@example.com', template='welcome') queue='mailers'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from activejob.adapters.test import RecordedJob
from activejob.testing.filters import Criteria, Selection

__all__ = ["check_count", "describe_job", "find_match", "listing"]

Kind = Literal["enqueued", "performed"]

MAX_LISTED = 50
"""Longer listings are cut, saying how many jobs were left out."""


def describe_job(recorded: RecordedJob) -> str:
    """One line for a recorded job: call, queue, priority, time and outcome.

    Example::

        "myapp.jobs.ReportJob(42, depth=2) queue='reports' at=2026-11-28T14:00:00+00:00"
    """
    parts = [f"{recorded.job_class}({_call_arguments(recorded)})", f"queue={recorded.queue_name!r}"]
    if recorded.priority is not None:
        parts.append(f"priority={recorded.priority}")
    if recorded.scheduled_at is not None:
        parts.append(f"at={recorded.scheduled_at.isoformat()}")
    if recorded.executions:
        parts.append(f"executions={recorded.executions}")
    outcome = recorded.outcome
    if outcome is not None:
        result: str = outcome.kind
        if outcome.exception is not None:
            result += f" ({type(outcome.exception).__name__}: {outcome.exception})"
        parts.append(f"-> {result}")
    elif recorded.performed:
        parts.append("-> running")
    return " ".join(parts)


def _call_arguments(recorded: RecordedJob) -> str:
    try:
        args, kwargs = recorded.args, recorded.kwargs
    except Exception as exc:  # show the stored form rather than hide the job
        raw = json.dumps([recorded.payload.get("arguments"), recorded.payload.get("kwargs")])
        return f"<not deserialisable: {type(exc).__name__}: {exc}; stored as {raw}>"
    return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


def listing(
    title: str,
    records: Sequence[RecordedJob],
    marked: set[int] | None = None,
    notes: dict[int, str] | None = None,
) -> str:
    """A numbered list of jobs under ``title``; jobs whose ``id()`` is in ``marked``
    get a ``*``, and ``notes`` add a remark to a job's line."""
    if not records:
        return f"{title}: none"
    head = f"{title} ({len(records)}" + ("; * = matches" if marked is not None else "") + "):"
    lines = [head]
    for number, recorded in enumerate(records[:MAX_LISTED], start=1):
        star = "*" if marked is not None and id(recorded) in marked else " "
        note = (notes or {}).get(id(recorded))
        suffix = f"  [{note}]" if note else ""
        lines.append(f"  {star} {number}. {describe_job(recorded)}{suffix}")
    if len(records) > MAX_LISTED:
        lines.append(f"    ... and {len(records) - MAX_LISTED} more")
    return "\n".join(lines)


def _jobs_word(n: int) -> str:
    return "1 job" if n == 1 else f"{n} jobs"


def check_count(
    kind: Kind, expected: int, records: Sequence[RecordedJob], selection: Selection, scope: str
) -> list[RecordedJob]:
    """Raise ``AssertionError`` unless exactly ``expected`` of ``records`` match
    ``selection``; returns the matching ones. ``scope`` ends the sentence
    (``""`` or ``" in the block"``)."""
    __tracebackhide__ = True
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        raise TypeError(f"the number of jobs must be an int >= 0, got {expected!r}")
    matching = [r for r in records if selection(r)]
    if len(matching) == expected:
        return matching
    filters = selection.describe()
    what = f"{_jobs_word(expected)} {kind}{scope}"
    if expected == 0:
        what = f"no job {kind}{scope}"
    if filters:
        what += f" matching {filters}"
    marked = {id(r) for r in matching} if filters else None
    message = f"expected {what}, got {len(matching)}\n" + listing(
        f"{kind} jobs{scope}", records, marked
    )
    raise AssertionError(message)


def find_match(
    kind: Kind, criteria: Criteria, records: Sequence[RecordedJob], scope: str
) -> RecordedJob:
    """The first of ``records`` meeting ``criteria``, or ``AssertionError`` listing
    each job with the criteria it missed."""
    __tracebackhide__ = True
    notes: dict[int, str] = {}
    for recorded in records:
        wrong = criteria.mismatches(recorded)
        if not wrong:
            return recorded
        notes[id(recorded)] = "differs in: " + ", ".join(wrong)
    message = f"no job {kind}{scope} matches {criteria.describe()}\n" + listing(
        f"{kind} jobs{scope}", records, notes=notes
    )
    raise AssertionError(message)
