"""The Dramatiq broker of the bridge tests, loaded by
``dramatiq tests.bridges.dramatiq_app:broker tests.bridges.jobs ...``.

A worker started with ``AJ_BRIDGE_BROKER`` (a ``redis://`` or ``amqp://`` URL)
and ``AJ_BRIDGE_PREFIX`` builds the same broker as the test process
(:func:`make_broker`) and configures activejob with the bridge, as a project's
``proj/broker.py`` would.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

import activejob
from activejob.adapters.dramatiq import DramatiqAdapter

QUEUES = ["default", "low"]


def make_broker(url: str, prefix: str) -> dramatiq.Broker:
    """A Redis broker under the namespace ``prefix``, or RabbitMQ with priorities."""
    if url.startswith("redis"):
        return RedisBroker(url=url, namespace=prefix)
    # pika spells the default virtual host "/" as %2F; Celery's "//" means the same.
    if url.endswith("//"):
        url = url[:-1] + "%2F"
    return RabbitmqBroker(url=url, max_priority=10)


def configure(broker: dramatiq.Broker, prefix: str) -> DramatiqAdapter:
    """activejob on this broker: queue names under ``prefix``."""
    activejob.configure(queue_name_prefix=prefix)
    adapter = DramatiqAdapter(broker, queues=QUEUES)
    activejob.configure(adapter=adapter)
    return adapter


if os.environ.get("AJ_BRIDGE_BROKER"):
    broker = make_broker(os.environ["AJ_BRIDGE_BROKER"], os.environ["AJ_BRIDGE_PREFIX"])
    dramatiq.set_broker(broker)
    configure(broker, os.environ["AJ_BRIDGE_PREFIX"])
