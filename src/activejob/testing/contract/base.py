"""The fixtures and helpers every part of the storage contract shares."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from activejob import _time
from activejob.storage.base import (
    ClaimedJob,
    JobInfo,
    JobState,
    NewJob,
    Storage,
)

__all__ = ["ContractBase", "FakeClock", "new_job"]


class FakeClock:
    """Stands in for :func:`activejob._time.now`; starts at the real time.

    Example::

        clock.advance(60)   # a minute passes for the storage, none for the test
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move time forward; returns the new time."""
        self.now += seconds
        return self.now


def new_job(
    queue: str = "default",
    priority: int = 0,
    run_at: float | None = None,
    job_class: str = "contract.Job",
    payload: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> NewJob:
    """A :class:`NewJob` with a fresh ``job_id`` and a small JSON payload."""
    job_id = job_id or str(uuid.uuid4())
    body = {"job_id": job_id, "job_class": job_class, **(payload or {})}
    return NewJob(job_id, job_class, queue, priority, json.dumps(body), run_at)


class ContractBase:
    """What every part of the contract shares: the fixtures and helpers."""

    #: How long a test waits for something that should happen at once.
    patience: float = 5.0

    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        """A new, empty, migrated storage used by one test only (closed after it)."""
        raise NotImplementedError("a StorageContract subclass must define make_storage()")

    @pytest.fixture
    def storage(self, request: pytest.FixtureRequest) -> Iterator[Storage]:
        """The storage under test."""
        storage = self.make_storage(request)
        try:
            yield storage
        finally:
            storage.close()

    @pytest.fixture
    def clock(self, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
        """A fake clock installed as ``activejob._time.now``."""
        fake = FakeClock()
        monkeypatch.setattr(_time, "now", fake)
        return fake

    # -- helpers --------------------------------------------------------------------

    def push(self, storage: Storage, *jobs: NewJob) -> list[str]:
        """Push ``jobs`` and return their ``job_id`` values."""
        storage.push(list(jobs))
        return [job.job_id for job in jobs]

    def claim_all(self, storage: Storage, queues: Sequence[str] = ("*",)) -> list[ClaimedJob]:
        """Claim every claimable job, a batch at a time."""
        claimed: list[ClaimedJob] = []
        while batch := storage.claim("worker-all", queues, 50):
            claimed.extend(batch)
        return claimed

    def info(self, storage: Storage, job_id: str) -> JobInfo:
        """The stored record of ``job_id``, which must exist."""
        info = storage.get(job_id)
        assert info is not None, f"job {job_id} vanished"
        return info

    def state(self, storage: Storage, job_id: str) -> JobState:
        return self.info(storage, job_id).state
