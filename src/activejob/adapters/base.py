"""The enqueue side of a backend: three methods and capability flags.

An adapter takes jobs; it does not run them (a worker, a thread pool or a foreign
system does, by handing the payload to :func:`activejob.execute`). Subclass
:class:`Adapter`, implement :meth:`~Adapter.enqueue` and, if the backend can hold
jobs until a time, :meth:`~Adapter.enqueue_at`; :meth:`~Adapter.enqueue_all` loops
unless the backend can take many jobs in one round trip. See ``docs/adapters.md``.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from activejob.config import get_config
from activejob.errors import EnqueueError
from activejob.flow import unique

if TYPE_CHECKING:
    from activejob.job.base import Job


_NO_SCOPE: AbstractContextManager[None] = contextlib.nullcontext()
"""The default enqueue scope: one object for every enqueue (a ``nullcontext``
holds no state)."""


class Adapter(ABC):
    """Base class of queue adapters.

    Capability flags are checked in one place, :meth:`validate`, before a job
    reaches the adapter.
    """

    scheme: ClassVar[str] = ""
    """The URL scheme this adapter is registered under (``"sqlite"``)."""
    supports_scheduling: ClassVar[bool] = True
    """Whether ``enqueue_at`` can hold a job until a time."""
    nonblocking: ClassVar[bool] = False
    """Whether enqueueing does no I/O, so async code may call it on the event loop."""
    supports_queues: ClassVar[bool] = True
    """Whether jobs can go to named queues. Where ``False`` (a bridge onto a system
    with one queue), a job for any queue but the configured default is refused."""
    supports_priority: ClassVar[bool] = True
    """Whether a job's ``priority`` can be honoured. Where ``False``, a job with a
    priority set is refused rather than run in another order than asked."""
    performs_inline: ClassVar[bool] = False
    """Whether ``enqueue`` runs the job itself, so an exception it raises is the
    job's own and reaches the caller unwrapped (the ``inline:`` adapter)."""

    @classmethod
    def from_url(cls, url: str) -> Adapter:
        """Build the adapter a URL describes (``scheme:`` or ``scheme://...``)."""
        return cls()

    def validate(self, job: Job) -> None:
        """Refuse, with :class:`EnqueueError`, a job this backend cannot take."""
        if job.scheduled_at is not None and not self.supports_scheduling:
            raise EnqueueError(
                f"the {self.scheme or type(self).__name__} adapter cannot schedule jobs "
                f"({job.job_class_name} asked for {job.scheduled_at.isoformat()}); "
                "use a backend that stores jobs, such as async: or sqlite:///jobs.sqlite3"
            )
        name = self.scheme or type(self).__name__
        if not self.supports_priority and job.priority is not None:
            raise EnqueueError(
                f"the {name} adapter cannot honour priorities ({job.job_class_name} asked "
                f"for priority {job.priority}); drop the priority or use a backend that has them"
            )
        if not self.supports_queues and job.queue_name != _default_queue():
            raise EnqueueError(
                f"the {name} adapter has one queue and cannot route to another "
                f"({job.job_class_name} asked for queue {job.queue_name!r}); "
                "drop queue_as / set(queue=) or use a backend with named queues"
            )

    @abstractmethod
    def enqueue(self, job: Job) -> None:
        """Take ``job`` to run as soon as possible. May set ``job.provider_job_id``."""

    def enqueue_at(self, job: Job, timestamp: float) -> None:
        """Take ``job`` to run at ``timestamp`` (epoch seconds)."""
        raise NotImplementedError(f"{type(self).__name__} does not schedule jobs")

    def enqueue_all(self, jobs: Sequence[Job]) -> int:
        """Take many jobs; returns how many were taken and sets their
        ``successfully_enqueued``. The default calls ``enqueue``/``enqueue_at``."""
        count = 0
        for job in jobs:
            unique.reset(job)
            if job.scheduled_at is None:
                self.enqueue(job)
            else:
                self.enqueue_at(job, job.scheduled_at.timestamp())
            # flow: unique: a duplicate was not taken
            job.successfully_enqueued = not unique.was_skipped(job)
            count += job.successfully_enqueued
        return count

    def enqueue_scope(self) -> AbstractContextManager[None]:
        """Held around an enqueue together with its ``enqueue`` event (and around a
        bulk enqueue with its ``enqueue_all`` event). An adapter that starts jobs
        on other threads at once (``async:``) starts those it was given when the
        scope ends, so a job's enqueue is reported before it is performed. The
        default does nothing."""
        return _NO_SCOPE

    def shutdown(self, *, wait: bool = True) -> None:
        """Release what the adapter holds (threads, connections)."""

    def __str__(self) -> str:
        return f"{self.scheme or type(self).__name__} adapter"


def _default_queue() -> str:
    """The default queue's full name, with the configured prefix."""
    config = get_config()
    if config.queue_name_prefix:
        return f"{config.queue_name_prefix}{config.queue_name_delimiter}{config.default_queue_name}"
    return config.default_queue_name


def payload_copy(job: Job) -> dict[str, Any]:
    """The job's payload after a real JSON round trip, as a durable backend would store it."""
    data: dict[str, Any] = json.loads(json.dumps(job.serialize()))
    return data
