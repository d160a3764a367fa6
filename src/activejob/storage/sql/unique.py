"""Unique jobs on the SQL storages (flow: unique), with each dialect's named queries.

A unique job is inserted with its key's digest in ``unique_lock``, which a unique
index covers: of two concurrent inserts of one key, the index lets one win, and the
other inserts nothing (``ON CONFLICT DO NOTHING`` / ``ON DUPLICATE KEY``). A stored
job holds its key while ``holds_key`` says so (the rule of
:func:`activejob.flow.unique.holds_key`, written in each ``release_unique_lock``
query), so a loser first clears the lock of a holder that no longer holds it,
in one conditional ``UPDATE``, and tries again; nothing is checked before inserting.

Queries each dialect provides: ``insert_unique_job`` (returns the new id, or no row
on a conflict), ``release_unique_lock`` (clears the lock of a holder that no longer
holds it), ``unique_holder`` (id, job_id, state, attempts of the holder) and
``replace_unique_job`` (a waiting, never-claimed holder takes the new payload, run
time, queue and priority).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from activejob.flow.unique import WAITING_STATES, lock_of
from activejob.storage.base import Duplicate, NewJob, StorageError

if TYPE_CHECKING:
    from activejob.storage.sql.base import SQLStorage

__all__ = ["push_jobs_with_unique", "push_unique", "unique_params"]

ATTEMPTS = 8
"""Rounds of insert / release / replace before giving up on a key that changes
hands all the time (each round loses only to a job that just took the key)."""


def unique_params(job: NewJob, now: float) -> dict[str, Any]:
    """The unique columns of ``job``'s row (all ``None`` for a job that is not unique)."""
    if job.unique_key is None:
        return {
            "unique_key": None,
            "unique_lock": None,
            "unique_until": None,
            "unique_expires_at": None,
        }
    return {
        "unique_key": job.unique_key,
        "unique_lock": lock_of(job.unique_key),
        "unique_until": job.unique_until,
        "unique_expires_at": None if job.unique_within is None else now + job.unique_within,
    }


def push_unique(
    storage: SQLStorage,
    conn: Any,
    job: NewJob,
    params: dict[str, Any],
    inserted_id: Callable[[Any], Any | None],
) -> Any:
    """Store one unique job on ``conn``: its storage id, or a :class:`Duplicate`.

    ``params`` are the row's parameters (``now`` and the unique columns included);
    ``inserted_id`` reads the new id from ``insert_unique_job``'s cursor, or ``None``
    when the index refused the row.
    """
    for _ in range(ATTEMPTS):
        new_id = inserted_id(storage._run(conn, "insert_unique_job", params))
        if new_id is not None:
            return new_id
        if storage._run(conn, "release_unique_lock", params).rowcount:
            continue  # the holder no longer held its key: try again
        holder = storage._run(conn, "unique_holder", params).fetchone()
        if holder is None:
            continue  # released between the two statements
        holder_id, holder_job_id, state, attempts = holder[:4]
        if job.unique_on_conflict != "replace" or state not in WAITING_STATES or attempts:
            return Duplicate(str(holder_job_id), holder_id)
        replace = {
            **params,
            "id": holder_id,
            "payload": _with_job_id(job.payload, str(holder_job_id)),
        }
        if storage._run(conn, "replace_unique_job", replace).rowcount:
            return Duplicate(str(holder_job_id), holder_id, replaced=True)
    raise StorageError(
        f"job {job.job_id}: its unique key {job.unique_key!r} changed hands "
        f"{ATTEMPTS} times during one enqueue; enqueue it again"
    )


def push_jobs_with_unique(
    storage: SQLStorage,
    conn: Any,
    jobs: Sequence[NewJob],
    row_params: Callable[[NewJob], dict[str, Any]],
    insert_plain: Callable[[NewJob], Any],
    inserted_id: Callable[[Any], Any | None],
) -> list[Any]:
    """Store ``jobs`` one by one on ``conn`` (inside one transaction when several),
    so that two duplicates in one batch find each other."""
    ids: list[Any] = []
    for job in jobs:
        if job.unique_key is None:
            ids.append(insert_plain(job))
        else:
            ids.append(push_unique(storage, conn, job, row_params(job), inserted_id))
    return ids


def _with_job_id(payload: str, job_id: str) -> str:
    """``payload`` naming ``job_id``: the holder keeps its identity and takes the rest."""
    data = json.loads(payload)
    if isinstance(data, dict) and "job_id" in data:
        data["job_id"] = job_id
        return json.dumps(data)
    return payload
