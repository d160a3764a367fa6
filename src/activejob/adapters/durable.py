"""The enqueue side of a backend that owns a :class:`~activejob.storage.base.Storage`.

Enqueueing is a ``storage.push``: one row per job, one round trip for a bulk
enqueue. Inside :func:`activejob.in_transaction` the rows are written on the
caller's connection. A storage failure (the server is down, the connection
dropped) becomes :class:`~activejob.EnqueueError` with the cause chained.

Example::

    class MyAdapter(StorageAdapter):
        scheme = "mydb"

        @classmethod
        def from_url(cls, url):
            return cls(MyStorage.from_url(url))
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from activejob.adapters.base import Adapter
from activejob.adapters.cache import resolve_adapter
from activejob.errors import ConfigurationError, DuplicateJobError, EnqueueError
from activejob.flow import unique
from activejob.flow.concurrency import concurrency_slots
from activejob.flow.rate import encode_limits, rate_limits_of
from activejob.storage.base import Duplicate, NewJob, Storage, StorageError
from activejob.transaction import current_connection

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["StorageAdapter", "new_job", "storage_of"]

logger = logging.getLogger("activejob")

_encode = json.JSONEncoder(check_circular=False).encode


def _dumps(payload: dict[str, Any]) -> str:
    """``json.dumps`` for payloads without its cycle check (0.6 µs a job): ``serialize()``
    builds each payload fresh, its arguments through the codec, which fails on a cycle
    first. A cycle in ``metadata`` fails the enqueue with the ``ValueError`` that
    ``json.dumps`` gives (found by the recursion limit instead of the check)."""
    try:
        return _encode(payload)
    except RecursionError:
        raise ValueError("Circular reference detected in the job's payload") from None


_warned_main: set[str] = set()
_warned_lock = threading.Lock()


def storage_of(adapter: str | Adapter | None = None) -> Storage:
    """The storage behind ``adapter`` (a URL, an instance, or ``None`` for the
    configured one): what the worker, its child processes, the CLI and
    :func:`activejob.status` operate on.

    Raises :class:`ConfigurationError` for a backend that keeps no jobs
    (``inline:``, ``async:``, ``test:``, a bridge).

    Example::

        storage = storage_of("sqlite:///jobs.sqlite3")
        storage.counts()
    """
    built = resolve_adapter(adapter)
    # Read as an attribute, not by class: an adapter from an entry point may keep a
    # Storage without subclassing StorageAdapter.
    storage = getattr(built, "storage", None)
    if not isinstance(storage, Storage):
        raise ConfigurationError(
            f"the {built} keeps no jobs to run or look up; use a durable backend such as "
            "sqlite:///jobs.sqlite3, postgresql://host/db or redis://host:6379/0 "
            "(--adapter, ACTIVEJOB_ADAPTER or activejob.configure(adapter=...))"
        )
    return storage


def new_job(job: Job, run_at: float | None) -> NewJob:
    """What a storage keeps of ``job``: its routing fields and its JSON payload."""
    spec = unique.spec_of(job)  # flow: unique
    if spec is None:
        return NewJob(
            job.job_id,
            job.job_class_name,
            job.queue_name,
            job.priority or 0,
            _dumps(job.serialize()),
            run_at,
            rate_limits=encode_limits(rate_limits_of(job)),  # flow: rate limits
            concurrency=concurrency_slots(job),  # flow: concurrency
        )
    payload = job.serialize()
    return NewJob(
        job.job_id,
        job.job_class_name,
        job.queue_name,
        job.priority or 0,
        _dumps(payload),
        run_at,
        unique_key=unique.key_of(job, spec, (payload["arguments"], payload["kwargs"])),
        unique_until=spec.until,
        unique_within=spec.within,
        unique_on_conflict=spec.on_conflict,
        rate_limits=encode_limits(rate_limits_of(job)),  # flow: rate limits
        concurrency=concurrency_slots(job),  # flow: concurrency
    )


class StorageAdapter(Adapter):
    """An adapter whose jobs live in ``storage``, run by ``activejob worker``."""

    supports_transactions: ClassVar[bool] = False
    """Whether :func:`activejob.in_transaction` connections are honoured."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    @property
    def storage(self) -> Storage:
        """The worker side: what ``activejob worker``, the CLI and ``status`` use."""
        return self._storage

    def enqueue(self, job: Job) -> None:
        self._push([job], [None])

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        self._push([job], [timestamp])

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        """Store every job with one ``push`` (one round trip)."""
        run_at = [None if j.scheduled_at is None else j.scheduled_at.timestamp() for j in jobs]
        self._push(jobs, run_at)
        for job in jobs:
            job.successfully_enqueued = not unique.was_skipped(job)
        return sum(1 for job in jobs if job.successfully_enqueued)

    def transaction_connection(self) -> Any:
        """The caller's connection to write the jobs on (its open transaction), or
        ``None`` for the storage's own: the :func:`activejob.in_transaction` one when
        :attr:`supports_transactions`."""
        return current_connection() if self.supports_transactions else None

    def _push(self, jobs: Sequence[Job], run_at: Sequence[float | None]) -> None:
        rows = [new_job(job, at) for job, at in zip(jobs, run_at, strict=True)]
        connection = self.transaction_connection()
        try:
            ids = self._storage.push(rows, connection=connection)
        except StorageError as exc:
            raise EnqueueError(f"{self} could not enqueue {len(rows)} job(s): {exc}") from exc
        refused: DuplicateJobError | None = None
        for job, storage_id in zip(jobs, ids, strict=True):
            unique.reset(job)
            if isinstance(storage_id, Duplicate):  # flow: unique
                try:
                    unique.mark_duplicate(
                        job, self, storage_id.job_id, replaced=storage_id.replaced
                    )
                except DuplicateJobError as exc:
                    refused = refused or exc  # the other jobs of a batch are stored
                continue
            job.provider_job_id = str(storage_id)
        self._warn_about_main(jobs)
        if refused is not None:
            raise refused

    def _warn_about_main(self, jobs: Sequence[Job]) -> None:
        # A worker is another process: it can never import the script that enqueued,
        # so these jobs would fail there as an unknown class. Said once per class.
        for cls in {type(job) for job in jobs}:
            if cls.__module__ != "__main__":
                continue
            with _warned_lock:
                if cls.job_class_name in _warned_main:
                    continue
                _warned_main.add(cls.job_class_name)
            logger.warning(
                "%s is defined in __main__ (the script being run), so a worker cannot "
                "import it: jobs of this class enqueued to %s will fail to load there. "
                "Define the job in an importable module and start the worker with "
                "--import MODULE",
                cls.__qualname__,
                self,
            )

    def shutdown(self, *, wait: bool = True) -> None:
        self._storage.close()
