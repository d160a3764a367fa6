"""Rate limits in the SQL claim (flow: rate limits, see :mod:`activejob.flow.rate`).

A claim first takes the due rate-limited jobs its window logs admit, then the
unlimited ones (the ``claim_*`` queries skip rate-limited rows). The rate-limited
part runs in one transaction: the candidates are locked (``SKIP LOCKED`` where the
server has it), the logs of their ``(key, per)`` are locked in key order, the
admitted jobs become ``running`` and the logs are written back. So no two claims
can both see room for the same last place: never check-then-claim.

A window found full is stored with ``full_until``; the candidates query then skips
its jobs, and ``wait`` sleeps until that time (``rate_next_due``), not a poll.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from activejob import _time
from activejob.flow.rate import RateWindow, RateWindows, StoredLimit, decode_limits, report_held
from activejob.storage.base import JobInfo, JobState
from activejob.storage.selector import QueueSelector

if TYPE_CHECKING:
    from activejob.storage.sql.base import SQLStorage

__all__ = ["claim_rate_limited", "held_until", "next_rate_due"]


ROUNDS = 4
"""Candidate pages a claim reads at most: a page of jobs held back (their window
was not known to be full) is followed by one that skips them."""


def claim_rate_limited(
    storage: SQLStorage, conn: Any, worker_id: str, selector: QueueSelector, now: float, limit: int
) -> list[Sequence[Any]]:
    """Claim the due rate-limited jobs whose windows have room, up to ``limit``;
    returns the claimed rows (as the ``claim_*`` queries return them)."""
    if not storage._rate_probe(conn, selector, now):
        return []
    taken = 0
    fetches: list[Callable[[], list[Any]]] = []
    held: list[tuple[str, list[StoredLimit], float | None]] = []
    with storage._rate_scope(conn):
        for _ in range(ROUNDS):
            want = limit - taken
            candidates = _candidates(storage, conn, selector, now, want)
            if not candidates:
                break
            before = len(held)
            admitted, fetch = _admit(storage, conn, worker_id, candidates, now, want, held)
            taken += admitted
            fetches.append(fetch)
            if len(held) == before or taken >= limit:
                break
    # Read after the commit: a pipelined dialect then waits for the claim and the
    # commit together.
    rows = [row for fetch in fetches for row in fetch()]
    for job_id, limits, until in held:
        report_held(job_id, limits, until, worker_id)
    return rows


def _admit(
    storage: SQLStorage,
    conn: Any,
    worker_id: str,
    candidates: list[tuple[Any, list[StoredLimit], str]],
    now: float,
    want: int,
    held: list[tuple[str, list[StoredLimit], float | None]],
) -> tuple[int, Callable[[], list[Any]]]:
    """Lock the candidates' logs, claim those with room, save the logs; appends the
    jobs held back to ``held``. Returns how many were admitted, and how to read the
    claimed rows."""
    buckets = sorted({s.bucket for _, limits, _ in candidates for s in limits})
    locked = storage._rate_lock(conn, json.dumps(buckets), now)
    windows = RateWindows(
        {(str(k), float(p)): RateWindow(float(p), _starts(s)) for k, p, s in locked}, now
    )
    admitted: list[Any] = []
    refused: list[tuple[str, list[StoredLimit]]] = []
    for id_, limits, job_id in candidates:
        if len(admitted) >= want:
            break
        if windows.admit(limits):
            admitted.append(id_)
        else:
            refused.append((job_id, limits))
    fetch = storage._rate_finish(
        conn, json.dumps(admitted), json.dumps(windows.changed()), worker_id, now
    )
    held.extend((job_id, limits, windows.held_until(limits)) for job_id, limits in refused)
    return len(admitted), fetch


def _candidates(
    storage: SQLStorage, conn: Any, selector: QueueSelector, now: float, limit: int
) -> list[tuple[Any, list[StoredLimit], str]]:
    found: list[tuple[Any, list[StoredLimit], str]] = []
    seen: set[Any] = set()
    for pattern in selector.patterns:
        params = {"kind": pattern.kind, "queue": pattern.value, "now": now, "limit": limit}
        for id_, text, job_id in storage._run(conn, "rate_candidates", params).fetchall():
            limits = decode_limits(text)
            if id_ not in seen and limits:
                seen.add(id_)
                found.append((id_, limits, str(job_id)))
    return found


def _starts(text: Any) -> list[list[float]]:
    """A stored log's ``[time, count]`` slots; anything else reads as empty."""
    try:
        value = json.loads(text) if isinstance(text, str) else []
        return sorted([float(at), float(count)] for at, count in value)
    except (ValueError, TypeError):
        return []


def next_rate_due(storage: SQLStorage, conn: Any, selector: QueueSelector) -> float | None:
    """The earliest time a rate-limited job on ``selector``'s queues may start."""
    due: float | None = None
    for pattern in selector.patterns:
        params = {"kind": pattern.kind, "queue": pattern.value}
        value = storage._run(conn, "rate_next_due", params).fetchone()[0]
        if value is not None and (due is None or float(value) < due):
            due = float(value)
    return due


def held_until(storage: SQLStorage, conn: Any, infos: Sequence[JobInfo], now: float) -> None:
    """Fill ``rate_limited_until`` of the waiting jobs among ``infos``."""
    waiting = [info for info in infos if info.state in (JobState.READY, JobState.SCHEDULED)]
    if not waiting:
        return
    params = {"ids": json.dumps([info.id for info in waiting]), "now": now}
    until = {row[0]: row[1] for row in storage._run(conn, "rate_held_until", params).fetchall()}
    for info in waiting:
        value = until.get(info.id)
        if value is not None:
            info.rate_limited_until = _time.from_timestamp(float(value))
