"""``celery:?app=proj.celery:app``: jobs run by an existing Celery deployment.

The adapter registers one task on the Celery app, ``activejob.execute``, whose
only work is :func:`activejob.execute` on our JSON payload. Our rules apply
(``retry_on`` enqueues the job again through this adapter, ``discard_on`` drops
it); the task's own retries are off (``max_retries=0``, no ``autoretry_for``), so
a failure is never retried twice. Messages are always JSON, whatever the app's
``task_serializer``.

- ``set(wait=/wait_until=)`` is Celery's ``eta``.
- A job on activejob's default queue goes to the app's ``task_default_queue``
  (``"celery"`` unless changed), so ``celery -A proj worker`` runs it; any other
  queue name is Celery's ``queue=``, for ``celery -A proj worker -Q low,celery``.
- ``priority`` (smaller runs first) is mapped to Celery's on Redis (0-9, the same
  order) and on RabbitMQ (0-9 reversed, as larger runs first there; the app must
  set ``task_queue_max_priority``); elsewhere a priority is refused.
- ``provider_job_id`` is the Celery task id.
- ``perform_all_later`` publishes every message through one producer (one
  connection), as Celery's ``group`` does; Celery has no multi-message publish.

The worker is Celery's own: ``celery -A proj worker``. The task is a shared task,
on every app of a process that imports this module: the module the worker loads
builds the adapter (``activejob.configure(adapter=CeleryAdapter(app))``) or lists
``activejob.adapters.celery`` in the app's ``include=``, next to the job modules.
Importing this module imports ``celery``.

Example::

    app = Celery("proj", broker="redis://localhost:6379/0", include=["proj.jobs"])
    activejob.configure(adapter=CeleryAdapter(app))
    ReportJob.perform_later(42)
    # then: celery -A proj worker
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from celery import Celery, shared_task

from activejob.adapters.base import Adapter
from activejob.adapters.bridge import load_object, message_payload
from activejob.config import get_config
from activejob.errors import ConfigurationError, EnqueueError
from activejob.job.core import new_job_id
from activejob.job.execution import execute
from activejob.job.queueing import queue_name_from_part

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["TASK_NAME", "CeleryAdapter", "register_task"]

TASK_NAME = "activejob.execute"
"""The name of the one task the bridge registers on a Celery app."""

PRIORITIES = range(10)
"""The priorities Celery honours on Redis and RabbitMQ (0-9)."""


def _run_payload(payload: dict[str, Any]) -> None:
    """The task's body: hand the payload to activejob; perform's value is not kept."""
    execute(payload)


_TASK_OPTIONS: dict[str, Any] = {
    "name": TASK_NAME,
    "max_retries": 0,
    "autoretry_for": (),
    "acks_late": True,
    "ignore_result": True,
    "store_errors_even_if_ignored": True,
    "serializer": "json",
}

# A shared task: every Celery app in a process that imported this module has it, so
# a worker whose app only lists this module in ``include=`` runs bridged jobs too.
shared_task(**_TASK_OPTIONS)(_run_payload)


def register_task(app: Celery) -> Any:
    """The ``activejob.execute`` task on ``app``.

    The task never retries by itself (``max_retries=0``); a message is
    acknowledged after the job ran (``acks_late``), so a worker that dies mid-job
    leaves it to run again, as activejob's own worker does. Results are not
    stored, failures are (``store_errors_even_if_ignored``) where the app has a
    result backend.
    """
    task = app.tasks.get(TASK_NAME)
    if task is None:  # not expected: shared tasks join every app when it is finalised
        task = app.task(**_TASK_OPTIONS)(_run_payload)
    return task


class CeleryAdapter(Adapter):
    """Enqueues jobs as messages for the ``activejob.execute`` task of a Celery app.

    Example::

        activejob.configure(adapter=CeleryAdapter(app))
    """

    scheme: ClassVar[str] = "celery"

    def __init__(self, app: Celery) -> None:
        if not isinstance(app, Celery):
            raise TypeError(f"CeleryAdapter takes a celery.Celery app, got {type(app).__name__}")
        self.app = app
        self.task = register_task(app)
        self._driver: str | None = None

    @classmethod
    def from_url(cls, url: str) -> CeleryAdapter:
        """``celery:?app=proj.celery:app``: the app is imported from the named module."""
        query = parse_qs(urlsplit(url).query)
        unknown = set(query) - {"app"}
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) in {url!r}: {', '.join(sorted(unknown))} (known: app)"
            )
        if "app" not in query:
            raise ConfigurationError(f"{url!r} does not name the app: use celery:?app=module:app")
        app = load_object(query["app"][-1])
        if not isinstance(app, Celery):
            raise ConfigurationError(f"{query['app'][-1]!r} is not a Celery app")
        return cls(app)

    def validate(self, job: Job) -> None:
        """Also refuse a priority this app's broker cannot honour."""
        super().validate(job)
        if job.priority is not None:
            self._celery_priority(job.priority)

    def _celery_priority(self, priority: int) -> int:
        transport = self._transport()
        if priority not in PRIORITIES:
            raise EnqueueError(f"Celery priorities are 0-9 (smaller runs first), not {priority}")
        if transport == "redis":
            return priority
        if transport == "amqp":
            if not self.app.conf.task_queue_max_priority:
                raise EnqueueError(
                    "RabbitMQ honours priorities only on queues declared with one: set "
                    "app.conf.task_queue_max_priority = 10 (and recreate existing queues)"
                )
            return 9 - priority  # RabbitMQ runs larger priorities first
        raise EnqueueError(
            f"the Celery {transport!r} transport has no message priorities; drop the priority"
        )

    def _transport(self) -> str:
        if self._driver is None:
            with self.app.connection_for_write() as connection:
                self._driver = str(connection.transport.driver_type)
        return self._driver

    def _options(self, job: Job) -> dict[str, Any]:
        default = queue_name_from_part(get_config().default_queue_name)
        queue = self.app.conf.task_default_queue if job.queue_name == default else job.queue_name
        options: dict[str, Any] = {"queue": queue, "serializer": "json"}
        if job.priority is not None:
            options["priority"] = self._celery_priority(job.priority)
        return options

    def _send(self, job: Job, eta: datetime | None = None, producer: Any = None) -> None:
        # argsrepr is what Celery's events, logs and Flower show for the message. Given
        # here, it names the job rather than dumping the payload, and Celery skips a
        # saferepr of the whole payload (a third of its publish time).
        result = self.task.apply_async(
            args=(message_payload(job),),
            argsrepr=f"({job.job_class_name}, job_id={job.job_id})",
            eta=eta,
            producer=producer,
            task_id=new_job_id(),  # Celery's kind of id, made in a third of the time
            **self._options(job),
        )
        job.provider_job_id = result.id

    def enqueue(self, job: Job) -> None:
        """Publish the job for the next free worker."""
        self._send(job)

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        """Publish the job with Celery's ``eta``: the worker holds it until then."""
        self._send(job, eta=datetime.fromtimestamp(timestamp, tz=timezone.utc))

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        """Publish every job through one producer (one broker connection)."""
        with self.app.producer_or_acquire() as producer:
            for job in jobs:
                at = job.scheduled_at
                self._send(job, at.astimezone(timezone.utc) if at else None, producer)
                job.successfully_enqueued = True
        return len(jobs)

    def __str__(self) -> str:
        return f"celery adapter (app {self.app.main!r})"
