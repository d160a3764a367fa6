"""Concurrency limits on the SQL storages: slots granted and freed inside the
transactions that push, complete, retry and recover jobs.

A slot is a row of ``activejob_concurrency_slots`` (key, job, expires_at). A
limited job is pushed ``ready`` only if it could take a slot of every key it is
limited by (keys taken in sorted order, each under a per-key lock where the
server needs one: an advisory lock on PostgreSQL, the key's row on MySQL; SQLite's
write lock already serialises). Otherwise it is ``blocked`` with ``blocked_by``
naming the full key, or discarded (``on_conflict="discard"``). When a job that
holds slots finishes or is scheduled to run again, the same transaction frees them
and makes the next blocked jobs of each key ready — smaller priority first, then
first enqueued — so their workers are woken by the usual wake-up path (NOTIFY,
the in-process signal, ``data_version``) and no one polls for slots.

A job scheduled for later (``set(wait=...)``, a retry) waits ``blocked`` until its
``run_at``: a freed slot goes to it once due, and the maintenance pass
(:meth:`ConcurrencyOps.sweep_concurrency`, run with recovery) frees expired or
orphaned slots and hands them out, so no slot stays lost longer than its
``duration`` plus one heartbeat interval.

Example::

    with storage._transaction() as conn:
        storage.unblock(conn, "ChargeJob/42", _time.now())
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from typing import Any

from activejob import _time
from activejob.storage.base import Duplicate, JobState, NewJob, Result
from activejob.storage.concurrency import (
    DISCARD_CLASS,
    ConcurrencySlot,
    emit_blocked,
    emit_unblocked,
    slots_from_json,
    slots_to_json,
)
from activejob.storage.sql.connection import SQLConnection
from activejob.storage.sql.rows import result_row

__all__ = ["ConcurrencyOps"]

CANDIDATES = 16
"""Blocked jobs read per round when a key's slot frees (the job-by-job path)."""
WINDOW = 2
"""Blocked jobs per key the set-based path looks at per round: a finished job frees
one slot, so one candidate takes it and a second tells whether the key may have
more free (it used its whole window: another round). Every candidate read costs:
4 read two jobs per key that could not start (PostgreSQL, 100 keys: limited claims
0.44x -> 0.51x unlimited, bench/flow_concurrency.py)."""
SWEEP_KEYS = 100
"""Keys with blocked jobs the maintenance pass looks at per run."""
RELEASING = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.DISCARDED, JobState.SCHEDULED, JobState.READY}
)
"""Result states whose jobs may have freed their slots. ``ready`` (released unrun)
keeps them, as the job runs again, unless it was asked to stop and so was discarded
in the same transaction (flow: cancellation); :meth:`ConcurrencyOps.free_slots` frees
only the slots of jobs no longer ready or running."""


class ConcurrencyOps(SQLConnection):
    """The concurrency half of :class:`~activejob.storage.sql.base.SQLStorage`."""

    locks_keys: bool = True
    """Whether a per-key lock (query ``lock_concurrency_key``) serialises slot counts."""
    unblock_in_one: bool = False
    """Whether query ``unblock_free_slots`` takes free slots and readies their jobs in
    one statement (else ``take_free_slots``, ``ready_slot_holders``,
    ``keys_with_stacked_waiters``)."""
    free_slots_locks: bool = False
    """Whether query ``free_slots`` also takes the freed keys' locks (one round trip)."""
    returning: bool = True
    """Whether the dialect has ``RETURNING``; without it, a query ``q`` is run as
    ``q_select`` (which locks and reads the rows) and then ``q_apply``."""

    # -- push --------------------------------------------------------------------------

    def dispatch_new(
        self, conn: Any, jobs: Sequence[NewJob], ids: Sequence[Any], now: float
    ) -> builtins.list[tuple[str, str, bool]]:
        """Give each limited job just inserted its slots, or block (or discard) it.
        Returns ``(job_id, key, discarded)`` for the jobs that did not get them."""
        blocked: builtins.list[tuple[str, str, bool]] = []
        for job, row_id in zip(jobs, ids, strict=True):
            if not job.concurrency or isinstance(row_id, Duplicate):  # flow: unique refused it
                continue
            slots = slots_from_json(slots_to_json(job.concurrency))
            self._run(
                conn, "set_job_concurrency", {"id": row_id, "concurrency": slots_to_json(slots)}
            )
            if job.run_at is not None and job.run_at > now:
                self._run(conn, "block_job", {"id": row_id, "key": slots[0].key})
                continue
            full = self.try_acquire(conn, row_id, slots, now)
            if full is None:
                continue
            discard = full.on_conflict == "discard"
            self._run(
                conn, "discard_job" if discard else "block_job", _block_params(row_id, full, now)
            )
            blocked.append((job.job_id, full.key, discard))
        return blocked

    def try_acquire(
        self, conn: Any, row_id: Any, slots: Sequence[ConcurrencySlot], now: float
    ) -> ConcurrencySlot | None:
        """Take a slot of every limit for job ``row_id``, or none: returns the first
        limit whose slots are all taken (``None`` when the job got them all)."""
        for slot in slots:
            self.lock_key(conn, slot.key)
            held = self._run(conn, "count_slots", {"key": slot.key, "now": now}).fetchone()[0]
            if int(held) >= slot.limit:
                return slot
        for slot in slots:
            params = {"key": slot.key, "id": row_id, "expires_at": now + slot.duration}
            self._run(conn, "take_slot", params)
        return None

    def lock_key(self, conn: Any, key: str) -> None:
        """Serialise slot counts of ``key`` until the transaction ends."""
        if self.locks_keys:
            self._run(conn, "lock_concurrency_key", {"key": key})

    # -- slots freed -------------------------------------------------------------------

    def release_completed(
        self, conn: Any, results: Sequence[Result], now: float
    ) -> builtins.list[str]:
        """After ``complete_jobs`` in the same transaction: free the slots of jobs that
        finished or were scheduled again, park the rescheduled limited ones as blocked
        until their time, and hand the freed slots on. Returns the unblocked job ids."""
        ids = [r.id for r in results if JobState(r.state) in RELEASING]
        if not ids:
            return []
        rescheduled = [r.id for r in results if JobState(r.state) is JobState.SCHEDULED]
        if rescheduled:
            self._run(conn, "park_rescheduled", {"ids": _ids(rescheduled)})
        keys = self.free_slots(conn, ids)
        return self.unblock_keys(conn, keys, now, locked=self.free_slots_locks)

    def complete_and_release(
        self, conn: Any, results: Sequence[Result], now: float
    ) -> builtins.list[str] | None:
        """``complete_jobs`` then :meth:`release_completed` for a batch of final results
        (no job of it runs again), with the first two statements as one (query
        ``complete_free_slots``, one round trip fewer). Returns the unblocked job ids,
        or ``None`` when the dialect has no such query (the caller runs the two)."""
        if "complete_free_slots" not in self.sql.queries:
            return None
        params = {"results": json.dumps([result_row(result) for result in results]), "now": now}
        keys = sorted({str(row[0]) for row in self._run(conn, "complete_free_slots", params)})
        return self.unblock_keys(conn, keys, now, locked=True)

    def free_slots(self, conn: Any, ids: Sequence[Any]) -> builtins.list[str]:
        """Delete the slots of jobs ``ids`` that no longer hold them (not ready or
        running: a stale result of a job running again elsewhere frees nothing).
        Returns the freed keys."""
        rows = self.changed_rows(conn, "free_slots", {"ids": _ids(ids)}, pass_rows=True)
        return sorted({str(row[0]) for row in rows})

    def unblock_keys(
        self, conn: Any, keys: Iterable[str], now: float, *, locked: bool = False
    ) -> builtins.list[str]:
        """Hand the free slots of ``keys`` on; returns the job ids made ready.

        Set-based first: one statement gives every key's free slots to its next
        few jobs limited by that key alone (:data:`WINDOW` per key, again for the
        keys that used their whole window), one more makes them ready. A job under
        several limits stops that for its key, and the rest of the key's line goes
        through :meth:`unblock`, job by job, in the same order."""
        pending = sorted(set(keys))
        if pending and self.locks_keys and not locked:
            self._run(conn, "lock_concurrency_keys", {"keys": json.dumps(pending)})
        unblocked: builtins.list[str] = []
        stacked: set[str] = set()
        while pending:
            params = {"keys": json.dumps(pending), "now": now, "limit": WINDOW}
            ready, taken, found = self._take_free_slots(conn, params)
            unblocked.extend(ready)
            stacked.update(found)
            pending = sorted(key for key in set(taken) if taken.count(key) >= WINDOW)
        for key in sorted(stacked):
            unblocked.extend(self.unblock(conn, key, now))
        return unblocked

    def _take_free_slots(
        self, conn: Any, params: dict[str, Any]
    ) -> tuple[builtins.list[str], builtins.list[str], builtins.list[str]]:
        """One round of :meth:`unblock_keys`: the job ids made ready, the key of each
        slot taken, and the keys whose line a job under several limits stopped."""
        if self.unblock_in_one:
            rows = self._run(conn, "unblock_free_slots", params).fetchall()
            pairs = [(str(job_id), str(key)) for kind, job_id, key in rows if kind == "ready"]
            found = [str(key) for kind, key, _ in rows if kind == "stacked"]
            return [job_id for job_id, _ in pairs], [key for _, key in pairs], found
        rows = self.changed_rows(conn, "take_free_slots", params, pass_rows=True)
        taken = [str(row[0]) for row in rows]
        holders = self.changed_rows(conn, "ready_slot_holders", params, pass_rows=True)
        ready = [str(row[0]) for row in holders]
        found = [str(row[0]) for row in self._run(conn, "keys_with_stacked_waiters", params)]
        return ready, taken, found

    def unblock(self, conn: Any, key: str, now: float) -> builtins.list[str]:
        """Make the next due blocked jobs of ``key`` ready while slots are free;
        returns their job ids. A job also limited by another full key moves on to
        wait for that one."""
        self.lock_key(conn, key)
        unblocked: builtins.list[str] = []
        while True:
            params = {"key": key, "now": now, "limit": CANDIDATES}
            rows = self._run(conn, "blocked_candidates", params).fetchall()
            for row_id, job_id, concurrency in rows:
                full = self.try_acquire(conn, row_id, slots_from_json(concurrency), now)
                if full is None:
                    self._run(conn, "unblock_job", {"id": row_id})
                    unblocked.append(str(job_id))
                elif full.key == key:
                    return unblocked
                else:
                    self._run(conn, "block_job", {"id": row_id, "key": full.key})
            if len(rows) < CANDIDATES:
                return unblocked

    def release_cancelled(self, conn: Any, row_id: Any, now: float) -> builtins.list[str]:
        """After a waiting job ``row_id`` was cancelled (discarded) in this transaction:
        free the slots it held (a ready limited job holds them) and hand them on.
        Returns the unblocked job ids."""
        keys = self.free_slots(conn, [row_id])
        return self.unblock_keys(conn, keys, now, locked=self.free_slots_locks)

    # -- operators and maintenance -----------------------------------------------------

    def park_retried(self, conn: Any, now: float) -> builtins.list[str]:
        """Limited jobs an operator just retried (ready, holding no slot) wait as
        blocked, then take what is free: they never run without their slots."""
        keys = [str(row[0]) for row in self.changed_rows(conn, "park_retried", {"now": now})]
        return self.unblock_keys(conn, keys, now)

    def sweep_concurrency(self) -> builtins.list[str]:
        """Free expired slots and slots of jobs that no longer hold them (failed by
        recovery, discarded by an operator), then hand out every free slot to due
        blocked jobs. Idempotent; run with every recovery pass."""
        now = _time.now()
        with self._transaction() as conn:
            freed = {str(row[0]) for row in self.changed_rows(conn, "expire_slots", {"now": now})}
            waiting = self._run(conn, "blocked_keys", {"now": now, "limit": SWEEP_KEYS}).fetchall()
            keys = freed | {str(row[0]) for row in waiting if row[0] is not None}
            unblocked = self.unblock_keys(conn, keys, now)
        self.announce_unblocked(unblocked)
        return unblocked

    def changed_rows(
        self, conn: Any, name: str, params: dict[str, Any], *, pass_rows: bool = False
    ) -> builtins.list[Any]:
        """The rows query ``name`` changes and returns (see :attr:`returning`); with
        ``pass_rows``, ``q_apply`` is given them as ``rows`` (JSON) too."""
        if self.returning:
            return builtins.list(self._run(conn, name, params).fetchall())
        rows = builtins.list(self._run(conn, f"{name}_select", params).fetchall())
        if rows:
            if pass_rows:
                params = {**params, "rows": json.dumps([builtins.list(row) for row in rows])}
            self._run(conn, f"{name}_apply", params)
        return rows

    def announce_unblocked(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            self._signal.notify(None)
            emit_unblocked(job_ids)


def announce_blocked(blocked: Sequence[tuple[str, str, bool]]) -> None:
    for job_id, key, discarded in blocked:
        emit_blocked(job_id, key, discarded=discarded)


def _block_params(row_id: Any, slot: ConcurrencySlot, now: float) -> dict[str, Any]:
    return {
        "id": row_id,
        "key": slot.key,
        "now": now,
        "error_class": DISCARD_CLASS,
        "error_message": (
            f"discarded at enqueue: all {slot.limit} slot(s) of concurrency key "
            f"{slot.key!r} were taken (on_conflict='discard')"
        ),
    }


def _ids(ids: Sequence[Any]) -> str:
    return json.dumps([int(i) for i in ids])
