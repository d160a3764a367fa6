"""Retry or discard every job a listing's filters match, whichever filters they are
(the dashboard's "all matching" and ``activejob jobs retry|discard --all``).

A :class:`~activejob.storage.browse.JobQuery` on state, queue and class only is one
:meth:`Storage.retry <activejob.storage.base.Storage.retry>` or ``discard`` of the
equivalent :class:`~activejob.storage.base.JobFilter`: one statement. With a filter
no index serves (error class, text in the arguments, creation time) it walks the
query's pages by cursor, as the listing does (each window at most
:data:`~activejob.storage.browse.SCAN_LIMIT` jobs read), and acts on the jobs each
page found, by id: only the jobs the listing would show change, in every backend,
through the same storage API.

Example::

    query = JobQuery(state=JobState.FAILED, error_class="app.Timeout")
    describe(query, "retry")         # "every failed job whose last error is 'app.Timeout'"
    act_on_matching(storage, query, "retry")
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from activejob import _time
from activejob.storage.base import JobFilter, JobState
from activejob.storage.browse import JobQuery

if TYPE_CHECKING:
    from activejob.storage.base import Storage

__all__ = ["ACTS_ON", "BATCH", "act_on_matching", "describe", "has_filter"]

ACTS_ON = {
    "retry": (JobState.FAILED, JobState.DISCARDED),
    "discard": (JobState.READY, JobState.SCHEDULED, JobState.BLOCKED, JobState.FAILED),
}
"""The states each action changes (DESIGN.md section 6)."""
BATCH = 500
"""Jobs acted on per call, when the matches are found page by page."""


def has_filter(query: JobQuery) -> bool:
    """Whether ``query`` narrows the store at all (acting on every job needs a filter)."""
    return query.searches or query.state is not None or query.queue_name is not None


def act_on_matching(storage: Storage, query: JobQuery, action: str) -> int:
    """Retry (``action="retry"``) or discard every job ``query`` matches, ignoring its
    cursor and page size; returns how many changed. Jobs in a state the action does
    not change are left alone (and not counted)."""
    states = ACTS_ON[action]
    act = storage.retry if action == "retry" else storage.discard
    if query.state is not None and JobState(query.state) not in states:
        return 0
    if not query.searches:
        return act(
            JobFilter(
                states=None if query.state is None else [JobState(query.state)],
                queue_name=query.queue_name,
                job_class=query.job_class,
                limit=None,
            )
        )
    total = 0
    page_query = dataclasses.replace(query, before=None, limit=BATCH)
    while True:
        page = storage.browse(page_query)
        found = [job.job_id for job in page.jobs if job.state in states]
        if found:
            total += act(JobFilter(states=list(states), job_ids=found, limit=None))
        if page.next_before is None:
            return total
        page_query = dataclasses.replace(page_query, before=page.next_before)


def describe(query: JobQuery, action: str) -> str:
    """What ``act_on_matching(storage, query, action)`` acts on, in words, for the
    question an operator confirms."""
    states = ACTS_ON[action]
    if query.state is None:
        names = ", ".join(s.value for s in states[:-1]) + f" or {states[-1].value}"
        text = f"every {names} job"
    elif JobState(query.state) in states:
        text = f"every {JobState(query.state).value} job"
    else:
        done = "retried" if action == "retry" else "discarded"
        return f"no job: {JobState(query.state).value} jobs are never {done}"
    parts = [text]
    if query.queue_name is not None:
        parts.append(f"in queue {query.queue_name!r}")
    if query.job_class is not None:
        parts.append(f"of class {query.job_class!r}")
    if query.error_class is not None:
        parts.append(f"whose last error is {query.error_class!r}")
    if query.text is not None:
        parts.append(f"whose arguments contain {query.text!r}")
    if query.created_after is not None:
        parts.append(f"created since {_utc(query.created_after)}")
    if query.created_before is not None:
        parts.append(f"created before {_utc(query.created_before)}")
    return " ".join(parts)


def _utc(seconds: float) -> str:
    return _time.from_timestamp(seconds).strftime("%Y-%m-%d %H:%M:%S UTC")
