"""How stored values are shown on the dashboard's pages: times, arguments, errors.

Arguments are shown from their JSON wire format without running any decoder: a
tagged value (``{"_aj": "tuple", "v": [2, 3]}``) reads ``tuple(2, 3)``, a GlobalID
its URI. Showing a job never imports the job's code, locates a record or calls a
custom serializer, so a hostile or broken payload cannot do more than look odd.

Example::

    show_value({"_aj": "tuple", "v": [2, 3]})   # 'tuple(2, 3)'
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.storage.base import JobInfo

__all__ = ["arguments_text", "latency", "pretty_json", "show_time", "show_value", "timeline"]

SHOWN_LIMIT = 20_000
"""Characters of one decoded value shown before it is cut."""


def show_time(moment: datetime | None) -> str:
    """A time in UTC, saying so; empty for ``None``."""
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty_json(value: Any) -> str:
    """Indented JSON, as stored."""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def show_value(value: Any, depth: int = 0) -> str:
    """A Python-like rendering of one serialized argument."""
    if depth > 50:
        return "…"
    if isinstance(value, dict):
        tag = value.get("_aj")
        if isinstance(tag, str) and set(value) <= {"_aj", "v"}:
            inner = value.get("v")
            if isinstance(inner, list):
                return f"{tag}({', '.join(show_value(item, depth + 1) for item in inner)})"
            return f"{tag}({show_value(inner, depth + 1)})"
        items = ", ".join(
            f"{json.dumps(key)}: {show_value(item, depth + 1)}" for key, item in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(item, depth + 1) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def arguments_text(payload: dict[str, Any]) -> str:
    """The call a payload describes: ``(1, 'a', key=…)``, shortened past
    :data:`SHOWN_LIMIT`."""
    arguments = payload.get("arguments")
    kwargs = payload.get("kwargs")
    parts = [show_value(item) for item in arguments] if isinstance(arguments, list) else []
    if isinstance(kwargs, dict):
        parts += [f"{key}={show_value(item)}" for key, item in kwargs.items()]
    text = "(" + ", ".join(parts) + ")"
    if len(text) > SHOWN_LIMIT:
        text = text[:SHOWN_LIMIT] + f"… ({len(text) - SHOWN_LIMIT:,} characters left out)"
    return text


def show_duration(seconds: float) -> str:
    """``45s``, ``12m 5s``, ``3h 20m``, ``2d 4h``."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def latency(oldest_ready_at: datetime | None) -> str:
    """How long a queue's oldest ready job has waited ("" when none is ready)."""
    if oldest_ready_at is None:
        return ""
    from activejob import _time

    return show_duration(_time.now() - oldest_ready_at.timestamp())


def timeline(job: JobInfo) -> list[tuple[str, str, str]]:
    """A job's life so far as ``(event, time, detail)`` rows, in order: enqueued,
    scheduled for, started, finished (or where it stands now)."""
    rows = [("enqueued", show_time(job.created_at), f"on queue {job.queue_name}")]
    if job.run_at > job.created_at or job.state.value == "scheduled":
        waited = show_duration((job.run_at - job.created_at).total_seconds())
        rows.append(("scheduled for", show_time(job.run_at), f"{waited} after enqueue"))
    if job.started_at is not None:
        attempt = f"attempt {job.attempts}" + (f", {job.crashes} crashes" if job.crashes else "")
        worker = f" on {job.worker_id}" if job.worker_id else ""
        rows.append(("started", show_time(job.started_at), attempt + worker))
    if job.finished_at is not None:
        took = ""
        if job.started_at is not None and job.finished_at >= job.started_at:
            took = f"after {show_duration((job.finished_at - job.started_at).total_seconds())}"
        rows.append((job.state.value, show_time(job.finished_at), took))
    elif job.state.value in ("ready", "running"):
        rows.append((job.state.value, "now", ""))
    return rows
