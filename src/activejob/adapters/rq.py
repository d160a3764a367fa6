"""``rq:redis://host:6379/0``: jobs run by RQ's own worker (``rq worker``).

A bridge for a team that already runs RQ. Every job is one RQ job calling one
function, :func:`perform` (by its dotted path, :data:`PERFORM`), whose only work
is :func:`activejob.execute` on our JSON payload: our retries, discards and
callbacks apply, and RQ's own retry is never set, so a failure is retried once,
by us. Queues are RQ queues of the same name; ``set(wait=...)`` becomes RQ's
scheduled registry (the worker needs ``--with-scheduler``); RQ has no priorities,
so a job with one is refused. ``provider_job_id`` is the RQ job id. A bulk
enqueue is one pipelined round trip (``Queue.enqueue_many`` and
``Queue.schedule_job`` on one pipeline).

RQ pickles by default; this bridge writes its jobs with
``rq.serializers.JSONSerializer``, so the worker must read them with the same::

    ACTIVEJOB_ADAPTER=rq:redis://localhost:6379/0 ACTIVEJOB_IMPORTS=proj.jobs \\
        rq worker --with-scheduler --serializer rq.serializers.JSONSerializer \\
        -u redis://localhost:6379/0 default

With RQ's default (forking) worker, call :func:`prepare_worker` from the settings
module given with ``-c``, so the work horses inherit the job modules instead of
importing them per job. The URL's query may set ``job_timeout`` (seconds, RQ's
``timeout``; ``-1`` for none; RQ's default is 180). Importing this module imports
``rq`` and ``redis``.

Example::

    activejob.configure(adapter="rq:redis://localhost:6379/0")
    ReportJob.perform_later(42)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis import Redis
from rq import Queue
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from activejob.adapters.base import Adapter
from activejob.adapters.bridge import WorkerPreparation, message_payload, run_in_worker
from activejob.errors import ConfigurationError
from activejob.job.core import new_job_id

if TYPE_CHECKING:
    from rq.job import Job as RQJob

    from activejob.job.base import Job

__all__ = ["PERFORM", "RQAdapter", "perform", "prepare_worker"]

PERFORM = "activejob.adapters.rq.perform"
"""The dotted path every bridged RQ job calls: the one function RQ ever imports for us."""


def perform(payload: dict[str, Any]) -> None:
    """Run one of our payloads in an RQ worker, with all our rules.

    A retry is enqueued again through the job's adapter (configure ``rq:`` in the
    worker: ``ACTIVEJOB_ADAPTER``); a discard ends the RQ job as finished; a
    failure, including a payload that names no registered job class, raises, and
    RQ records the job in its ``FailedJobRegistry``. Returns ``None``, so RQ
    stores no result it would have to serialise.
    """
    run_in_worker(
        payload,
        _prepare,
        "for rq worker, import the module from its -c settings module or name it in "
        "ACTIVEJOB_IMPORTS",
    )


_prepare = WorkerPreparation(
    "rq", "start the worker with ACTIVEJOB_ADAPTER=rq:redis://... (the Redis it reads)"
)


def prepare_worker() -> None:
    """Import the job modules (``ACTIVEJOB_IMPORTS``) and this bridge once, in the
    main process of ``rq worker``: call it from the settings module given with
    ``-c``, which RQ imports before it forks. RQ's default worker forks a work horse
    per job, and each inherits what its parent imported; without this call, every
    work horse imports this module, the job modules and checks the configured
    adapter again, some 4 ms of CPU a job.

    Example::

        # rq_settings.py, for: rq worker -c rq_settings ...
        from activejob.adapters.rq import prepare_worker

        prepare_worker()
    """
    _prepare()


def _at(timestamp: float) -> datetime:
    # RQ keeps whole seconds (it drops the fraction): round up, so a job never
    # runs before the time it was given.
    return datetime.fromtimestamp(math.ceil(timestamp), timezone.utc)


class RQAdapter(Adapter):
    """Enqueues jobs as RQ jobs on ``connection`` (a ``redis.Redis``).

    Example::

        from redis import Redis
        activejob.configure(adapter=RQAdapter(Redis.from_url("redis://localhost:6379/0")))
    """

    scheme: ClassVar[str] = "rq"
    supports_priority: ClassVar[bool] = False

    def __init__(self, connection: Redis, *, job_timeout: int | None = None) -> None:
        self.connection = connection
        self.job_timeout = job_timeout
        self._queues: dict[str, Queue] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> RQAdapter:
        """``rq:redis://[user:password@]host[:port][/db][?job_timeout=600]``."""
        redis_url = url.partition(":")[2]
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError(
                f"the rq adapter takes the URL of RQ's Redis after 'rq:', such as "
                f"'rq:redis://localhost:6379/0'; got {url!r}"
            )
        query = dict(parse_qsl(parts.query))
        timeout = query.pop("job_timeout", None)
        try:
            job_timeout = None if timeout is None else int(timeout)
        except ValueError:
            raise ConfigurationError(
                f"job_timeout in {url!r} must be a whole number of seconds"
            ) from None
        redis_url = urlunsplit(parts._replace(query=urlencode(query)))
        return cls(Redis.from_url(redis_url), job_timeout=job_timeout)

    def queue(self, name: str) -> Queue:
        """The RQ queue called ``name``, writing JSON."""
        found = self._queues.get(name)
        if found is None:
            with self._lock:
                found = self._queues.setdefault(
                    name, Queue(name, connection=self.connection, serializer=JSONSerializer)
                )
        return found

    def enqueue(self, job: Job) -> None:
        rq_job = self.queue(job.queue_name).enqueue_call(PERFORM, **self._options(job))
        job.provider_job_id = rq_job.id

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        if timestamp <= time.time():
            # Due already (a retry with no wait): straight to the queue, not a
            # round through the scheduler, which looks only once a second.
            self.enqueue(job)
            return
        queue = self.queue(job.queue_name)
        rq_job = queue.create_job(PERFORM, status=JobStatus.SCHEDULED, **self._options(job))
        queue.schedule_job(rq_job, _at(timestamp))
        job.provider_job_id = rq_job.id

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        """Every job in one pipelined round trip: ``enqueue_many`` per queue for
        the jobs to run now, ``schedule_job`` for the others."""
        pipe = self.connection.pipeline()
        enqueued: list[tuple[Job, RQJob]] = []
        by_queue: dict[str, list[Job]] = {}
        for job in jobs:
            by_queue.setdefault(job.queue_name, []).append(job)
        for name, group in by_queue.items():
            queue = self.queue(name)
            now = [job for job in group if job.scheduled_at is None]
            datas = [Queue.prepare_data(PERFORM, **self._options(job)) for job in now]
            enqueued.extend(zip(now, queue.enqueue_many(datas, pipeline=pipe), strict=True))
            for job in group:
                if job.scheduled_at is not None:
                    rq_job = queue.create_job(
                        PERFORM, status=JobStatus.SCHEDULED, **self._options(job)
                    )
                    queue.schedule_job(rq_job, _at(job.scheduled_at.timestamp()), pipeline=pipe)
                    enqueued.append((job, rq_job))
        pipe.execute()
        for job, rq_job in enqueued:
            job.provider_job_id = rq_job.id
            job.successfully_enqueued = True
        return len(jobs)

    def _options(self, job: Job) -> dict[str, Any]:
        return {
            "args": (message_payload(job),),
            "job_id": new_job_id(),  # RQ's kind of id, made in a third of the time
            "timeout": self.job_timeout,
            # What `rq info` and dashboards show, instead of the whole payload.
            "description": f"{job.job_class_name} {job.job_id}",
        }

    def shutdown(self, *, wait: bool = True) -> None:
        self.connection.close()

    def __str__(self) -> str:
        kwargs = self.connection.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"rq adapter ({where}/{kwargs.get('db', 0)})"
