"""What the bridge benchmark's foreign workers load (``bench/`` on ``PYTHONPATH``):
no-op and marker jobs, as activejob jobs and as each system's own task, on an app
or broker built from ``AJ_BENCH_BROKER`` and ``AJ_BENCH_PREFIX``.

A marker writes the time it ran, and its process's CPU time, to the file it is
given: a batch of no-ops between two markers, run in order by one worker thread,
took the time (and the worker the CPU time) between them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import activejob
from activejob import Job


def mark(path: str) -> None:
    """Write the time now and this process's CPU time to ``path``."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{time.time()!r} {time.process_time()!r}")


class BridgeNoopJob(Job):
    """Does nothing: what is measured is the system around it."""

    def perform(self, n: int) -> None:
        pass


class MarkJob(Job):
    """Writes the time it ran to ``path``."""

    def perform(self, path: str) -> None:
        mark(path)


def celery_app(broker: str, prefix: str) -> tuple[Any, Any, Any]:
    """A Celery app on ``broker``, its native no-op and marker tasks; activejob
    configured with the bridge onto it."""
    from celery import Celery

    from activejob.adapters.celery import CeleryAdapter

    app = Celery("ajbench", broker=broker)
    app.conf.update(
        task_default_queue=f"{prefix}_default",
        worker_enable_remote_control=False,
        broker_connection_retry_on_startup=True,
    )
    # Like for like: the native task acknowledges after running, as the bridge's task
    # does (acks_late=True); AJ_BENCH_ACKS_LATE=0 gives it Celery's default instead.
    late = os.environ.get("AJ_BENCH_ACKS_LATE", "1") == "1"
    noop = app.task(name="bench.noop", ignore_result=True, acks_late=late)(_noop)
    marker = app.task(name="bench.mark", ignore_result=True)(mark)
    activejob.configure(adapter=CeleryAdapter(app), queue_name_prefix=prefix)
    return app, noop, marker


def dramatiq_broker(broker: str, prefix: str) -> tuple[Any, Any, Any]:
    """A Dramatiq broker on ``broker``, its native no-op and marker actors;
    activejob configured with the bridge onto it."""
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.brokers.redis import RedisBroker

    from activejob.adapters.dramatiq import DramatiqAdapter

    if broker.startswith("redis"):
        found: dramatiq.Broker = RedisBroker(url=broker, namespace=prefix)
    else:
        found = RabbitmqBroker(url=broker)
    dramatiq.set_broker(found)
    activejob.configure(queue_name_prefix=prefix)
    queue = f"{prefix}_default"
    noop = dramatiq.actor(_noop, broker=found, actor_name="bench_noop", queue_name=queue)
    marker = dramatiq.actor(mark, broker=found, actor_name="bench_mark", queue_name=queue)
    activejob.configure(adapter=DramatiqAdapter(found))
    return found, noop, marker


def _noop(n: int) -> None:
    pass


if os.environ.get("AJ_BENCH_LOG_LEVEL"):
    # AJ_BENCH_LOG_LEVEL=DEBUG: the bridge's per-job lines on, as with --verbose.
    import logging

    logging.getLogger().setLevel(os.environ["AJ_BENCH_LOG_LEVEL"])

app: Any = None
broker: Any = None
if os.environ.get("AJ_BENCH_SYSTEM") == "celery":
    app = celery_app(os.environ["AJ_BENCH_BROKER"], os.environ["AJ_BENCH_PREFIX"])[0]
elif os.environ.get("AJ_BENCH_SYSTEM") == "dramatiq":
    broker = dramatiq_broker(os.environ["AJ_BENCH_BROKER"], os.environ["AJ_BENCH_PREFIX"])[0]


def drop_celery_queue(app: Any, url: str, prefix: str) -> None:
    """Delete the benchmark's Celery queue (RabbitMQ) or its keys (Redis); close ``app``."""
    queue = f"{prefix}_default"
    with app.connection_for_write() as connection:
        if url.startswith("amqp"):
            connection.default_channel.queue_delete(queue)
        else:
            client = connection.default_channel.client
            keys = list(client.scan_iter(f"{queue}*"))
            if keys:
                client.delete(*keys)
    app.close()


def drop_dramatiq_queue(broker: Any, url: str, prefix: str) -> None:
    """Delete the benchmark's Dramatiq queues (RabbitMQ) or keys (Redis); close ``broker``."""
    queue = f"{prefix}_default"
    if url.startswith("amqp"):
        for suffix in ("", ".DQ", ".XQ"):
            broker.channel.queue_delete(queue + suffix)
    else:
        keys = list(broker.client.scan_iter(f"{prefix}:*"))
        if keys:
            broker.client.delete(*keys)
    broker.close()
