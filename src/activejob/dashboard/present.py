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
from typing import Any

__all__ = ["arguments_text", "pretty_json", "show_time", "show_value"]

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
