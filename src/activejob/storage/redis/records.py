"""Between Redis replies and the storage's values: ids, times and job records.

A storage id is an integer; in Redis it is a *sid*, the same number zero-padded to
16 digits so that sids sort as numbers do in sorted sets whose scores tie.

Example::

    sid(42)          # '0000000000000042'
    job_info(fields) # JobInfo from a script's field/value list
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activejob import _time
from activejob.errors import DeserializationError, shorten
from activejob.flow.unique import holds_key
from activejob.storage.base import ClaimedJob, ErrorInfo, JobInfo
from activejob.storage.decode import Defects, load_object, payload_dict, sound_text


def sid(storage_id: Any) -> str:
    """The Redis form of a storage id."""
    return f"{int(storage_id):016d}"


def stamp(seconds: float) -> str:
    """Epoch seconds as the exact text scripts store and compare."""
    return repr(float(seconds))


def worker_info(text: str | None) -> dict[str, Any]:
    """A worker's heartbeat info (JSON it wrote); anything else is kept, shortened,
    under ``"raw"``, as the SQL storages do."""
    if text is None:
        return {}
    try:
        return load_object(text, "the stored worker info")
    except DeserializationError:
        return {"raw": shorten(text)}


def claimed_job(fields: Sequence[Any]) -> ClaimedJob:
    """A claimed job from the claim script's seven values per job (sid, job_id, queue,
    attempts, payload, priority, class); a corrupt hash carries the defect, for the
    worker to fail that job alone."""
    storage_id, job_id, queue, attempts, payload, priority, job_class = fields
    claimed = ClaimedJob(
        int(storage_id), job_id, queue, payload, int(attempts), job_class=job_class or None
    )
    whole = priority.isdigit() or (priority[:1] == "-" and priority[1:].isdigit())
    if whole and payload and queue and sound_text(payload):
        return claimed
    d = Defects()
    d.integer("priority", priority)
    d.text("queue", queue or None)
    d.text("payload", payload or None)
    claimed.defect = d.message
    return claimed


def job_info(flat: Sequence[str]) -> JobInfo:
    """A :class:`JobInfo` from a job's field/value list (as ``describe`` returns it);
    a corrupt field is shown with a default and a
    :class:`~activejob.DeserializationError` as the error, never raised."""
    h = dict(zip(flat[::2], flat[1::2], strict=True))
    d = Defects()
    error = None
    if "error_class" in h:
        error = ErrorInfo(
            h["error_class"], h.get("error_message", ""), h.get("error_traceback", "")
        )
    now = _time.now()
    info = JobInfo(
        id=int(h["sid"]),
        job_id=d.text("job_id", h.get("job_id")),
        job_class=d.text("class", h.get("class")),
        queue_name=d.text("queue", h.get("queue")),
        priority=d.integer("priority", h.get("priority")),
        state=d.state(h.get("state")),
        attempts=d.integer("attempts", h.get("attempts", "0")),
        payload=payload_dict(h.get("payload")),
        created_at=_time.from_timestamp(d.seconds("created_at", h.get("created_at"), now)),
        run_at=_time.from_timestamp(d.seconds("run_at", h.get("run_at"), now)),
        started_at=d.maybe_time("started_at", h.get("started_at")),
        finished_at=d.maybe_time("finished_at", h.get("finished_at")),
        worker_id=h.get("worker"),
        heartbeat_at=d.maybe_time("heartbeat_at", h.get("heartbeat_at")),
        crashes=d.integer("crashes", h.get("crashes", "0")),
        return_value=h.get("return_value"),  # results: return values (django.tasks)
        blocked_by=h.get("blocked_by") or None,  # flow: concurrency ("" once unblocked)
    )
    # flow: cancellation. Asked to stop during the claim it runs under.
    info.cancel_requested = info.state.value == "running" and h.get("cancel_attempts") == h.get(
        "attempts", "0"
    )
    info.error = d.error(error)
    if "unique_key" in h:  # flow: unique
        _unique_info(info, h, now)
    # flow: rate limits -- a ready job held back by a full window says until when.
    until = _number(h.get("rate_until"))
    if until is not None and until > now and h.get("state") == "ready":
        info.rate_limited_until = _time.from_timestamp(until)
    return info


def _unique_info(info: JobInfo, h: dict[str, str], now: float) -> None:
    expires = float(h["unique_expires"]) if "unique_expires" in h else None
    info.unique_key = h["unique_key"]
    info.unique_until = h.get("unique_until")
    info.unique_expires_at = None if expires is None else _time.from_timestamp(expires)
    info.unique_held = holds_key(info.state.value, info.attempts, info.unique_until, expires, now)


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None
