"""Concurrency limits as the storage keeps them (DESIGN §8, ``limits_concurrency``).

A job limited by one or more :class:`ConcurrencySlot` values runs only while it
holds a slot of each. The storage grants slots when the job is pushed (or when a
slot frees and the job is next in line); a job that cannot get one waits in state
``blocked`` with :attr:`~activejob.storage.base.JobInfo.blocked_by` naming the key,
and is made ``ready`` in the very transaction (or Lua script) that frees the slot.

What every backend shares lives here: the value type, its JSON form on the job's
row, and the one emitter of the ``block`` and ``unblock`` events.

Example::

    ConcurrencySlot("ChargeJob/42", limit=1, duration=900.0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from activejob import events

__all__ = [
    "ConcurrencySlot",
    "emit_blocked",
    "emit_unblocked",
    "slots_from_json",
    "slots_to_json",
]

KEY_LIMIT = 255
"""Characters of a full concurrency key (group or class name, ``/``, key) kept."""
ON_CONFLICT = ("block", "discard")
"""What a job does when every slot of a key is taken."""
DISCARD_CLASS = "activejob.flow.concurrency.ConcurrencyLimitReached"
"""The error class recorded on a job discarded by ``on_conflict="discard"``."""


@dataclass(frozen=True)
class ConcurrencySlot:
    """One limit a job is under: at most ``limit`` jobs holding ``key`` at once.

    ``duration`` (seconds) bounds how long a granted slot is held: after it the
    slot counts no more, whatever its job is doing, so a lost slot comes back.
    """

    key: str
    limit: int
    duration: float
    on_conflict: str = "block"

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"a concurrency key must be a non-empty string, got {self.key!r}")
        if len(self.key) > KEY_LIMIT:
            raise ValueError(
                f"a concurrency key has at most {KEY_LIMIT} characters, got {len(self.key)}: "
                f"{self.key[:60]!r}..."
            )
        if type(self.limit) is not int or self.limit < 1:
            raise ValueError(f"concurrency limit of {self.key!r} must be an int >= 1")
        if not isinstance(self.duration, (int, float)) or self.duration <= 0:
            raise ValueError(f"concurrency duration of {self.key!r} must be > 0 seconds")
        if self.on_conflict not in ON_CONFLICT:
            raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, got {self.on_conflict!r}")


def slots_to_json(slots: Sequence[ConcurrencySlot]) -> str | None:
    """The JSON kept on the job's row (``None`` for a job without limits), keys sorted
    so every backend takes a job's locks in the same order."""
    if not slots:
        return None
    ordered = sorted(slots, key=lambda s: s.key)
    return json.dumps(
        [
            {
                "key": s.key,
                "limit": s.limit,
                "duration": float(s.duration),
                "on_conflict": s.on_conflict,
            }
            for s in ordered
        ]
    )


def slots_from_json(text: Any) -> list[ConcurrencySlot]:
    """The mirror of :func:`slots_to_json`; a corrupt value means no limits (the
    job then runs unlimited rather than never)."""
    if not text:
        return []
    try:
        items = json.loads(text)
        return [
            ConcurrencySlot(
                str(item["key"]),
                int(item["limit"]),
                float(item["duration"]),
                str(item.get("on_conflict", "block")),
            )
            for item in items
        ]
    except (TypeError, ValueError, KeyError, AttributeError):
        return []


def emit_blocked(job_id: str, key: str, *, discarded: bool = False) -> None:
    """``block``: a job found every slot of ``key`` taken (``discarded`` when its
    ``on_conflict="discard"`` discarded it instead of waiting)."""
    events.emit("block", job_id=job_id, key=key, discarded=discarded)


def emit_unblocked(job_ids: Iterable[str]) -> None:
    """``unblock``: blocked jobs got their slots and are ready to run."""
    ids = list(job_ids)
    if ids:
        events.emit("unblock", job_ids=ids)
