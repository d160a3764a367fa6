"""``dramatiq:?broker=proj.broker:broker``: jobs run by an existing Dramatiq deployment.

The adapter declares one actor on the broker, ``activejob.execute``, whose only
work is :func:`activejob.execute` on our JSON payload. Our rules apply
(``retry_on`` enqueues the job again through this adapter, ``discard_on`` drops
it); the actor's own retries are off (``max_retries=0`` and a ``retry_when`` that
never retries, which wins over a ``Retries`` middleware's own), so a failure is
never retried twice: the message goes to the dead-letter queue.

- ``set(wait=/wait_until=)`` is Dramatiq's ``delay`` (milliseconds; the Redis
  broker refuses more than 7 days).
- Queues: the worker consumes the queues declared on the broker, so the adapter
  declares the ones it is given (``queues=``, default: activejob's default queue)
  and refuses a job for any other with :class:`EnqueueError`, rather than leave
  it where no worker looks.
- ``priority`` (smaller runs first) is RabbitMQ's ``broker_priority`` (larger
  runs first, so reversed) on a ``RabbitmqBroker(max_priority=N)``; 0..N are
  accepted. Other brokers have no message priority: a priority is refused.
- ``provider_job_id`` is the Dramatiq ``message_id``.
- ``perform_all_later`` enqueues message after message on the broker's
  connection (it keeps one per thread); Dramatiq has no multi-message enqueue.

The worker is Dramatiq's own: ``dramatiq proj.broker proj.jobs``. The modules it
imports must build the adapter (which declares the actor) and define the jobs.
Messages are JSON: a broker whose global encoder is not Dramatiq's
``JSONEncoder`` is refused. Importing this module imports ``dramatiq``.

Example::

    broker = RedisBroker(url="redis://localhost:6379/0")
    activejob.configure(adapter=DramatiqAdapter(broker, queues=["default", "low"]))
    ReportJob.perform_later(42)
    # then: dramatiq proj.broker proj.jobs
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from activejob.adapters.base import Adapter
from activejob.adapters.bridge import load_object, message_payload
from activejob.config import get_config
from activejob.errors import ConfigurationError, EnqueueError
from activejob.job.core import new_job_id
from activejob.job.execution import execute
from activejob.job.queueing import queue_name_from_part
from activejob.log import job_lines_at

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["ACTOR_NAME", "DramatiqAdapter", "declare_actor"]

ACTOR_NAME = "activejob.execute"
"""The name of the one actor the bridge declares on a broker."""


def _run_payload(payload: dict[str, Any]) -> None:
    """The actor's body: hand the payload to activejob; perform's value is not kept.

    The per-job ``Performing``/``Performed`` lines are DEBUG here, the level of
    Dramatiq's own per-message lines: at Dramatiq's default INFO a bridged job logs
    what a Dramatiq actor logs (nothing unless it fails), and ``--verbose`` shows
    both. Two INFO lines a job would otherwise each cross Dramatiq's log pipe from
    the worker process to the main process, which halves a no-op's throughput.
    """
    with job_lines_at(logging.DEBUG):
        execute(payload)


def _never_retry(retries: int, exception: BaseException) -> bool:
    """Dramatiq's ``retry_when``: activejob's own rules decided already."""
    return False


def declare_actor(broker: dramatiq.Broker, queue_name: str) -> dramatiq.Actor[Any, Any]:
    """The ``activejob.execute`` actor on ``broker``, declared on first call.

    Its retries are off: ``max_retries=0`` and a ``retry_when`` that says no, where
    the broker has the ``Retries`` middleware that reads them.
    """
    if ACTOR_NAME in broker.actors:
        found: dramatiq.Actor[Any, Any] = broker.actors[ACTOR_NAME]
        return found
    options: dict[str, Any] = {}
    if "max_retries" in broker.actor_options:
        options = {"max_retries": 0, "retry_when": _never_retry}
    return dramatiq.Actor(
        _run_payload,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=queue_name,
        priority=0,
        options=options,
    )


class DramatiqAdapter(Adapter):
    """Enqueues jobs as messages for the ``activejob.execute`` actor of a Dramatiq broker.

    ``queues`` are activejob queue names (the configured prefix is added); the
    first is the actor's own queue.

    Example::

        activejob.configure(adapter=DramatiqAdapter(broker, queues=["default", "low"]))
    """

    scheme: ClassVar[str] = "dramatiq"

    def __init__(self, broker: dramatiq.Broker, *, queues: Iterable[str] = ()) -> None:
        if not isinstance(broker, dramatiq.Broker):
            raise TypeError(f"DramatiqAdapter takes a dramatiq.Broker, got {type(broker).__name__}")
        if not isinstance(dramatiq.get_encoder(), dramatiq.JSONEncoder):
            raise ConfigurationError(
                "activejob payloads are JSON: Dramatiq's encoder is "
                f"{type(dramatiq.get_encoder()).__name__}; use dramatiq.JSONEncoder"
            )
        names = [queue_name_from_part(q) for q in queues] or [
            queue_name_from_part(get_config().default_queue_name)
        ]
        self.broker = broker
        self.queues = frozenset(names)
        self.actor = declare_actor(broker, names[0])
        for name in names:
            broker.declare_queue(name)

    @classmethod
    def from_url(cls, url: str) -> DramatiqAdapter:
        """``dramatiq:?broker=proj.broker:broker[&queues=default,low]``."""
        query = parse_qs(urlsplit(url).query)
        unknown = set(query) - {"broker", "queues"}
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) in {url!r}: {', '.join(sorted(unknown))} "
                "(known: broker, queues)"
            )
        if "broker" not in query:
            raise ConfigurationError(
                f"{url!r} does not name the broker: use dramatiq:?broker=module:broker"
            )
        broker = load_object(query["broker"][-1])
        if not isinstance(broker, dramatiq.Broker):
            raise ConfigurationError(f"{query['broker'][-1]!r} is not a Dramatiq broker")
        queues = [q for value in query.get("queues", ()) for q in value.split(",") if q]
        return cls(broker, queues=queues)

    def validate(self, job: Job) -> None:
        """Also refuse a queue no worker consumes and a priority the broker lacks."""
        super().validate(job)
        if job.queue_name not in self.queues:
            raise EnqueueError(
                f"queue {job.queue_name!r} is not declared on the Dramatiq broker, so no "
                f"worker would consume it; add it to DramatiqAdapter(queues=...) "
                f"(declared: {', '.join(sorted(self.queues))})"
            )
        if job.priority is not None:
            self._broker_priority(job.priority)

    def _broker_priority(self, priority: int) -> int:
        highest = getattr(self.broker, "max_priority", None)
        if not isinstance(self.broker, RabbitmqBroker) or not highest:
            raise EnqueueError(
                f"{type(self.broker).__name__} has no message priorities (only "
                "RabbitmqBroker(max_priority=N) has); drop the priority"
            )
        if not 0 <= priority <= highest:
            raise EnqueueError(
                f"priority {priority} is outside 0..{highest}, the broker's max_priority"
            )
        return int(highest) - priority  # RabbitMQ runs larger priorities first

    def _message(self, job: Job) -> dramatiq.Message[Any]:
        options: dict[str, Any] = {}
        if job.priority is not None:
            options["broker_priority"] = self._broker_priority(job.priority)
        return dramatiq.Message(
            queue_name=job.queue_name,
            actor_name=ACTOR_NAME,
            args=(message_payload(job),),
            kwargs={},
            options=options,
            message_id=new_job_id(),  # Dramatiq's own id, made in a third of the time
        )

    def _send(self, job: Job, timestamp: float | None) -> None:
        delay = None if timestamp is None else max(0, round((timestamp - time.time()) * 1000))
        message = self.broker.enqueue(self._message(job), delay=delay)
        job.provider_job_id = message.message_id

    def enqueue(self, job: Job) -> None:
        """Enqueue the job's message for the next free worker."""
        self._send(job, None)

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        """Enqueue the job's message with a ``delay`` until ``timestamp``."""
        self._send(job, timestamp)

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        """Enqueue each job's message in turn, on the broker's one connection."""
        for job in jobs:
            at = job.scheduled_at
            self._send(job, None if at is None else at.timestamp())
            job.successfully_enqueued = True
        return len(jobs)

    def __str__(self) -> str:
        return f"dramatiq adapter ({type(self.broker).__name__})"
