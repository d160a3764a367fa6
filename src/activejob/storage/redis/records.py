"""Between Redis replies and the storage's values: ids, times and job records.

A storage id is an integer; in Redis it is a *sid*, the same number zero-padded to
16 digits so that sids sort as numbers do in sorted sets whose scores tie.

Example::

    sid(42)          # '0000000000000042'
    job_info(fields) # JobInfo from a script's field/value list
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from activejob import _time
from activejob.storage.base import ErrorInfo, JobInfo, JobState


def sid(storage_id: Any) -> str:
    """The Redis form of a storage id."""
    return f"{int(storage_id):016d}"


def stamp(seconds: float) -> str:
    """Epoch seconds as the exact text scripts store and compare."""
    return repr(float(seconds))


def _time_or_none(text: str | None) -> datetime | None:
    return None if text is None else _time.from_timestamp(float(text))


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable_payload": text}
    return value if isinstance(value, dict) else {"unreadable_payload": text}


def job_info(flat: Sequence[str]) -> JobInfo:
    """A :class:`JobInfo` from a job's field/value list (as ``describe`` returns it)."""
    h = dict(zip(flat[::2], flat[1::2], strict=True))
    error = None
    if "error_class" in h:
        error = ErrorInfo(
            h["error_class"], h.get("error_message", ""), h.get("error_traceback", "")
        )
    return JobInfo(
        id=int(h["sid"]),
        job_id=h["job_id"],
        job_class=h["class"],
        queue_name=h["queue"],
        priority=int(h["priority"]),
        state=JobState(h["state"]),
        attempts=int(h.get("attempts", "0")),
        payload=_payload(h["payload"]),
        created_at=_time.from_timestamp(float(h["created_at"])),
        run_at=_time.from_timestamp(float(h["run_at"])),
        started_at=_time_or_none(h.get("started_at")),
        finished_at=_time_or_none(h.get("finished_at")),
        worker_id=h.get("worker"),
        heartbeat_at=_time_or_none(h.get("heartbeat_at")),
        error=error,
        crashes=int(h.get("crashes", "0")),
    )
