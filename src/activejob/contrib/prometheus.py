"""Prometheus metrics for jobs, by job class, queue and outcome
(``pip install 'activejob[prometheus]'``).

Example::

    from activejob.contrib import prometheus as aj_prometheus

    aj_prometheus.instrument()                        # the default registry
    aj_prometheus.instrument(registry=my_registry)

Metrics (``job_class`` is the payload name, ``queue`` the full queue name):

- ``activejob_jobs_enqueued_total{job_class, queue, outcome}``: enqueue attempts;
  ``outcome`` is ``enqueued``, ``aborted`` (a before_enqueue callback) or ``error``;
- ``activejob_jobs_performed_total{job_class, queue, outcome}``: executions;
  ``outcome`` is ``succeeded``, ``retry``, ``discarded``, ``failed``, ``resumed`` (a
  continuation handed back to resume) or ``interrupted``;
- ``activejob_job_duration_seconds{job_class, queue, outcome}``: a histogram of
  execution time;
- ``activejob_jobs_running{job_class, queue}``: executions in progress in this process.

Counted where jobs run: a worker process, or this process for ``inline:``,
``async:`` and ``test:``. For several worker processes, use prometheus_client's
multiprocess mode.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from activejob import events

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["DEFAULT_BUCKETS", "MetricsInstrumentation", "instrument"]

DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip
"""Histogram buckets in seconds: jobs run from milliseconds to an hour."""


class MetricsInstrumentation:
    """The metrics and the event subscribers that update them; built by :func:`instrument`."""

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float]) -> None:
        self.registry = registry
        labels = ("job_class", "queue", "outcome")
        self.enqueued = Counter(
            "activejob_jobs_enqueued", "Jobs enqueued, by outcome.", labels, registry=registry
        )
        self.performed = Counter(
            "activejob_jobs_performed", "Job executions, by outcome.", labels, registry=registry
        )
        self.duration = Histogram(
            "activejob_job_duration_seconds",
            "Job execution time in seconds.",
            labels,
            buckets=tuple(buckets),
            registry=registry,
        )
        self.running = Gauge(
            "activejob_jobs_running",
            "Job executions in progress.",
            ("job_class", "queue"),
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._handlers: dict[str, events.Handler] = {
            "enqueue": self._enqueue,
            "enqueue_at": self._enqueue,
            "enqueue_all": self._enqueue_all,
            "perform_start": self._perform_start,
            "perform": self._perform,
        }
        for name, handler in self._handlers.items():
            events.subscribe(name, handler)

    def uninstrument(self) -> None:
        """Stop updating the metrics and remove them from the registry."""
        for name, handler in self._handlers.items():
            events.unsubscribe(name, handler)
        for metric in (self.enqueued, self.performed, self.duration, self.running):
            self.registry.unregister(metric)
        with _lock:
            if _by_registry.get(id(self.registry)) is self:
                del _by_registry[id(self.registry)]

    def _enqueue(self, event: events.Event) -> None:
        job = event.job
        assert job is not None
        if event.exception is not None:
            outcome = "error"
        elif event.extra.get("aborted"):
            outcome = "aborted"
        else:
            outcome = "enqueued"
        self.enqueued.labels(job.job_class_name, job.queue_name, outcome).inc()

    def _enqueue_all(self, event: events.Event) -> None:
        jobs: list[Job] = event.extra.get("jobs", [])
        for job in jobs:
            ok = event.exception is None and job.successfully_enqueued
            self.enqueued.labels(
                job.job_class_name, job.queue_name, "enqueued" if ok else "error"
            ).inc()

    def _perform_start(self, event: events.Event) -> None:
        job = event.job
        assert job is not None
        self.running.labels(job.job_class_name, job.queue_name).inc()

    def _perform(self, event: events.Event) -> None:
        job = event.job
        assert job is not None
        outcome = str(event.extra.get("outcome"))
        self.running.labels(job.job_class_name, job.queue_name).dec()
        self.performed.labels(job.job_class_name, job.queue_name, outcome).inc()
        if event.duration is not None:
            self.duration.labels(job.job_class_name, job.queue_name, outcome).observe(
                event.duration
            )


_by_registry: dict[int, MetricsInstrumentation] = {}
_lock = threading.Lock()


def instrument(
    registry: CollectorRegistry | None = None, *, buckets: Sequence[float] = DEFAULT_BUCKETS
) -> MetricsInstrumentation:
    """Count job events into ``registry`` (the default registry if ``None``).

    Calling it again for the same registry returns the same instrumentation;
    ``uninstrument()`` on it stops counting and unregisters the metrics.

    Example::

        metrics = instrument()
        metrics.performed.labels("myapp.jobs.ReportJob", "default", "succeeded")
    """
    target = REGISTRY if registry is None else registry
    with _lock:
        existing = _by_registry.get(id(target))
        if existing is None:
            existing = _by_registry[id(target)] = MetricsInstrumentation(target, buckets)
        return existing
