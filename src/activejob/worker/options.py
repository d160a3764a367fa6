"""How a worker runs: queues, concurrency and the timings of its safety nets.

:class:`WorkerOptions` holds every setting a worker process needs, validated in
one place; the CLI flags, the ``activejob.Worker`` keywords and the spec a
supervisor hands to its children all become one of these.

Example::

    options = WorkerOptions(queues=parse_queues("critical,default,*"), threads=8)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from activejob.errors import ConfigurationError
from activejob.storage.selector import QueueSelector

__all__ = ["WorkerOptions", "parse_queues"]


@dataclass(frozen=True)
class WorkerOptions:
    """Settings of one worker process (and of each child of a supervisor).

    Example::

        WorkerOptions(queues=("critical", "*"), threads=8, recover_after=60)
    """

    queues: tuple[str, ...] = ("*",)
    """Queues in order of preference; ``"*"`` is any queue, ``"name*"`` a prefix.
    A comma-separated string is accepted too."""
    threads: int = 5
    """Threads for sync jobs."""
    async_concurrency: int = 50
    """How many ``async def`` jobs may run at once on the event loop."""
    prefetch: int | None = None
    """Jobs claimed beyond the free slots, so a slot never waits for a round trip;
    ``None`` means as many as ``threads``."""
    max_prefetch: int | None = None
    """While a backlog of short jobs leaves slots idle during each claim's round
    trip, the prefetch doubles up to this. ``None`` means ``20 * threads`` when
    ``prefetch`` is left to its default, else ``prefetch`` (a fixed prefetch)."""
    poll_interval: float = 1.0
    """Longest wait between claims when nothing signals new work. Scheduled jobs
    start at most this long after they are due."""
    heartbeat_interval: float = 5.0
    """Seconds between heartbeats (and recovery checks)."""
    recover_after: float = 60.0
    """A running job whose worker has not heartbeaten for this long is released."""
    max_crashes: int = 3
    """A job whose worker died while running it more than this many times is failed."""
    shutdown_timeout: float = 25.0
    """On SIGTERM, how long running jobs may take to finish before they are released."""
    retention: float | None = None
    """Seconds finished jobs are kept before pruning; ``None`` uses the storage's
    ``keep_finished`` (7 days unless the URL says ``?keep_finished=...``)."""
    prune_interval: float = 600.0
    """Seconds between prunes."""
    burst_horizon: float = 5.0
    """In burst mode, wait for scheduled jobs due within this many seconds."""
    imports: tuple[str, ...] = field(default=())
    """Modules to import before working: the modules that define the jobs."""
    timeout_grace: float = 5.0
    """flow: timeouts. Seconds past its ``timeout`` after which a job that has not
    returned (a sync job that never calls ``checkpoint()``) is recorded as timed
    out; its process, which cannot stop the thread, is then replaced."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "queues", parse_queues(self.queues))
        for name in ("threads", "async_concurrency"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"worker {name} must be at least 1")
        if self.prefetch is not None and self.prefetch < 0:
            raise ConfigurationError("worker prefetch must not be negative")
        if self.max_prefetch is not None and self.max_prefetch < self.prefetch_count:
            raise ConfigurationError("worker max_prefetch must be at least prefetch")
        if self.max_crashes < 0:
            raise ConfigurationError("worker max_crashes must not be negative")
        for name in (
            "poll_interval",
            "heartbeat_interval",
            "recover_after",
            "prune_interval",
            "timeout_grace",
        ):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"worker {name} must be positive")
        if self.recover_after <= self.heartbeat_interval:
            raise ConfigurationError(
                f"recover_after ({self.recover_after}s) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval}s), or live workers would lose their jobs"
            )
        if self.retention is not None and self.retention < 0:
            raise ConfigurationError("worker retention must not be negative")
        if self.shutdown_timeout < 0 or self.burst_horizon < 0:
            raise ConfigurationError("shutdown_timeout and burst_horizon must not be negative")

    @property
    def prefetch_count(self) -> int:
        """``prefetch`` with its default applied."""
        return self.threads if self.prefetch is None else self.prefetch

    @property
    def max_prefetch_count(self) -> int:
        """``max_prefetch`` with its default applied."""
        if self.max_prefetch is not None:
            return self.max_prefetch
        return 20 * self.threads if self.prefetch is None else self.prefetch

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for handing to a child process."""
        data = dataclasses.asdict(self)
        data["queues"] = list(self.queues)
        data["imports"] = list(self.imports)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerOptions:
        """The mirror of :meth:`to_dict`."""
        values = dict(data)
        values["queues"] = tuple(values.get("queues", ("*",)))
        values["imports"] = tuple(values.get("imports", ()))
        return cls(**values)


def parse_queues(queues: str | Sequence[str]) -> tuple[str, ...]:
    """``"critical, default,*"`` → ``("critical", "default", "*")``, checked.

    Example::

        parse_queues("critical,default,*")
    """
    try:
        selector = QueueSelector.parse(queues)
    except ValueError as exc:
        raise ConfigurationError(f"bad worker queues: {exc}") from exc
    return tuple(str(pattern) for pattern in selector.patterns)
