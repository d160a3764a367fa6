"""The optional storage capability of handing new jobs to idle workers.

A storage that has it (Redis: :mod:`activejob.storage.redis.handoff`) lets a
worker's fetcher wait as a registered idle worker: a job enqueued meanwhile may
arrive already claimed for it, with the wake-up itself, instead of a
notification followed by a claim. The worker checks for it once, with
``isinstance(storage, HandsOff)``.

Example::

    if isinstance(storage, HandsOff):
        jobs = storage.wait_handoff(worker_id, ["default"], timeout=1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from activejob.storage.base import ClaimedJob

__all__ = ["HandsOff"]


@runtime_checkable
class HandsOff(Protocol):
    """A storage whose idle fetchers can be handed jobs already claimed."""

    def wait_handoff(
        self, worker_id: str, queues: Sequence[str], timeout: float
    ) -> list[ClaimedJob]:
        """Block like ``Storage.wait`` after an empty claim by this thread for
        ``worker_id``; returns the jobs handed over (claimed: run them), or ``[]``
        after a wake-up or the timeout (then claim)."""
        ...
