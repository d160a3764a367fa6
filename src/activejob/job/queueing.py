"""Which queue a job goes to, and at what priority.

``queue_as`` is a string or a method returning one (it may look at the job's
arguments); ``priority`` is an int where smaller runs first (Active Job's
convention) or ``None`` for the backend's default. A configured
``queue_name_prefix`` is joined to every queue name::

    class ReportJob(Job):
        queue_as = "reports"
        priority = 10

    class ImportJob(Job):
        def queue_as(self) -> str:
            return "bulk" if self.kwargs.get("large") else "default"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from activejob.config import get_config
from activejob.job.core import JobCore


def queue_name_from_part(part: str) -> str:
    """``part`` with the configured prefix, as the queue's full name."""
    config = get_config()
    if config.queue_name_prefix:
        return f"{config.queue_name_prefix}{config.queue_name_delimiter}{part}"
    return part


class Queueing(JobCore):
    """``queue_as``, ``priority`` and the resolved ``queue_name``."""

    queue_as: ClassVar[str | Callable[[Any], str] | None] = None
    """The queue's name, or a method ``(self) -> str``; ``None`` is the default queue."""
    priority: int | None = None
    """Smaller runs first; ``None`` leaves it to the backend."""

    def _init_queueing(self) -> None:
        self.priority = type(self).priority
        self._queue_name: str | None = None

    @property
    def queue_name(self) -> str:
        """The full queue name, resolved from ``queue_as`` on first use."""
        if self._queue_name is None:
            self._queue_name = queue_name_from_part(self._queue_part())
        return self._queue_name

    @queue_name.setter
    def queue_name(self, value: str) -> None:
        self._queue_name = value

    def _queue_part(self) -> str:
        queue_as = type(self).queue_as
        if queue_as is None:
            return get_config().default_queue_name
        if isinstance(queue_as, str):
            return queue_as
        name = queue_as(self)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__qualname__}.queue_as() must return a queue name")
        return name
