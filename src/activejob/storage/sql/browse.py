"""The counts and pages of the SQL storages, each read on an index.

Counts: for each state, a skip scan finds the queues with jobs in it (one probe
of ``activejob_jobs_state_queue`` a queue) and counts each up to
:data:`~activejob.storage.browse.COUNT_CAP` (``state_queue_counts``); the
ready/scheduled split and the oldest ready job come from
``activejob_jobs_pending_run_at`` (``queue_pending_details``). A count at the cap
is reported as capped: the table is never scanned to count a million succeeded
jobs. Pages: ``browse_jobs`` reads a window of the newest jobs in the state (and
queue) below the cursor, then applies the other filters within it.

Example::

    infos = capped_queues(storage)      # what SQLStorage.queues() returns
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from activejob import _time
from activejob.storage.base import JobState, QueueInfo
from activejob.storage.browse import (
    COUNT_CAP,
    HOLDERS_SHOWN,
    Activity,
    BlockedKey,
    JobPage,
    JobQuery,
    activity_from,
    key_limit,
    page_from,
    window_size,
)
from activejob.storage.sql.rows import job_info

if TYPE_CHECKING:
    from activejob.storage.sql.base import SQLStorage

__all__ = ["blocked_keys", "browse", "capped_queues", "finished_activity"]

_PENDING = (JobState.READY, JobState.SCHEDULED)


def capped_queues(storage: SQLStorage, cap: int = COUNT_CAP) -> list[QueueInfo]:
    """Every queue with jobs, or paused, by name, with its counts by state (each
    exact up to ``cap``, else ``cap`` and listed in ``capped``)."""
    now = _time.now()
    counts: dict[str, dict[JobState, int]] = {}
    capped: dict[str, set[JobState]] = {}
    oldest: dict[str, float] = {}
    bounds = {"cap": cap, "skip": cap - 1, "now": now}
    with storage._connection() as conn:
        for state in JobState:
            if state is JobState.RUNNING:  # few, and on an index of their own
                rows = storage._run(conn, "running_queue_counts").fetchall()
            elif "next_queue_in_state" in storage.sql.queries:
                rows = _walk_queues(storage, conn, {**bounds, "state": state.value})
            else:
                params = {**bounds, "state": state.value}
                rows = storage._run(conn, "state_queue_counts", params).fetchall()
            for name, count in rows:
                counts.setdefault(name, {})[state] = int(count)
        for name, by_state in counts.items():
            if not any(state in by_state for state in _PENDING):
                continue
            params = {**bounds, "queue_name": name}
            row = storage._run(conn, "queue_pending_details", params).fetchone()
            _split_pending(by_state, capped.setdefault(name, set()), row, cap)
            found = [float(at) for at in row[2:4] if at is not None]
            if found:
                oldest[name] = min(found)
        paused = {row[0] for row in storage._run(conn, "paused_queues").fetchall()}
    infos = []
    for name in sorted(set(counts) | paused):
        by_state = {state: n for state, n in counts.get(name, {}).items() if n}
        over = capped.get(name, set()) | {s for s, n in by_state.items() if n >= cap}
        infos.append(
            QueueInfo(
                name,
                name in paused,
                by_state,
                capped=frozenset(over),
                oldest_ready_at=(_time.from_timestamp(oldest[name]) if name in oldest else None),
            )
        )
    return infos


def _walk_queues(storage: SQLStorage, conn: Any, params: dict[str, Any]) -> list[Any]:
    """``(queue, capped count)`` of one state, one index seek a queue from Python
    (a dialect whose recursive query reads the whole state: MariaDB)."""
    rows: list[Any] = []
    after = ""  # queue names are never empty
    while True:
        found = storage._run(conn, "next_queue_in_state", {**params, "after": after}).fetchone()
        if found is None:
            return rows
        after = found[0]
        count = storage._run(conn, "count_in_state_queue", {**params, "queue_name": after})
        rows.append((after, count.fetchone()[0]))


def _split_pending(
    by_state: dict[JobState, int], capped: set[JobState], row: Any, cap: int
) -> None:
    """Move a queue's due scheduled jobs to ready (as every listing shows them)."""
    due, future = int(row[0]), int(row[1])
    if JobState.SCHEDULED in by_state:
        by_state[JobState.SCHEDULED] = future
        if future >= cap:
            capped.add(JobState.SCHEDULED)
    ready = by_state.get(JobState.READY, 0)
    by_state[JobState.READY] = min(ready + due, cap)
    if ready + due >= cap:
        capped.add(JobState.READY)


def browse(storage: SQLStorage, query: JobQuery) -> JobPage:
    """One page of ``browse_jobs`` (see :mod:`activejob.storage.browse`)."""
    now = _time.now()
    state = None if query.state is None else JobState(query.state)
    params = {
        # A due scheduled job reads as ready: the window adds them to a ready listing
        # or an unfiltered one, and leaves them out of every other state's.
        "state": None if state is None else state.value,
        "with_due": state in (None, JobState.READY),
        "queue_name": query.queue_name,
        "job_class": query.job_class,
        "error_class": query.error_class,
        "created_after": query.created_after,
        "created_before": query.created_before,
        "text": query.text,
        "before": None if query.before is None else int(query.before),
        "scan": window_size(query),
        "limit": query.limit + 1,  # one more than shown says whether a next page exists
        "now": now,
    }
    name = _browse_query(storage, state is not None, query.queue_name is not None)
    with storage._connection() as conn:
        rows = storage._run_unprepared(conn, name, params).fetchall()
    lowest, scanned = (rows[0][0], int(rows[0][1])) if rows else (None, 0)
    jobs = [job_info(row[2:], now) for row in rows if row[2] is not None]
    return page_from(jobs, lowest, scanned, query)


def _browse_query(storage: SQLStorage, by_state: bool, by_queue: bool) -> str:
    """``browse_jobs``, or the dialect's own query for this combination of filters
    (SQLite: one a combination, as it plans before the parameters are known)."""
    variant = {
        (True, True): "browse_jobs",
        (True, False): "browse_jobs_by_state",
        (False, True): "browse_jobs_by_queue",
        (False, False): "browse_jobs_any",
    }[(by_state, by_queue)]
    return variant if variant in storage.sql.queries else "browse_jobs"


def finished_activity(storage: SQLStorage, since: float, minutes: int) -> Activity:
    """Jobs finished per minute since ``since``, read on the finished-jobs index."""
    with storage._connection() as conn:
        rows = storage._run(conn, "finished_per_minute", {"since": since}).fetchall()
    return activity_from(since, minutes, rows)


def blocked_keys(storage: SQLStorage, limit: int, cap: int = COUNT_CAP) -> list[BlockedKey]:
    """The keys blocked jobs wait for, by key: one seek on ``activejob_jobs_blocked``
    a key (as the MariaDB queues are walked), then its capped count, its limit (from
    its first waiting job's limits) and its live slots (flow: concurrency)."""
    now = _time.now()
    keys: list[BlockedKey] = []
    after = ""  # a concurrency key is never empty
    with storage._connection() as conn:
        while len(keys) < limit:
            found = storage._run(conn, "next_blocked_key", {"after": after}).fetchone()
            if found is None:
                break
            after = str(found[0])
            params = {"key": after, "cap": cap, "skip": cap - 1, "now": now}
            waiting, concurrency, taken = storage._run(
                conn, "blocked_key_details", params
            ).fetchone()
            holders = storage._run(conn, "key_holders", {**params, "limit": HOLDERS_SHOWN})
            keys.append(
                BlockedKey(
                    after,
                    int(waiting),
                    capped=int(waiting) >= cap,
                    limit=key_limit(concurrency, after),
                    taken=int(taken),
                    holders=[str(row[0]) for row in holders.fetchall()],
                )
            )
    return keys
