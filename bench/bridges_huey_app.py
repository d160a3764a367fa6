"""The Huey instance of ``bridges_rq_huey.py``: ``huey_consumer bridges_huey_app.huey``.

Huey's own no-op task beside the bridge, on one instance, so both rows run on one
consumer with one set of settings. ``AJ_BENCH_HUEY_NAME`` and ``AJ_BENCH_REDIS_URL``
say where it lives.
"""

from __future__ import annotations

import os

from bridges_rq_huey_app import BridgeNoopJob
from huey import RedisHuey

import activejob
from activejob.adapters.huey import HueyAdapter, JSONSerializer

__all__ = ["BridgeNoopJob", "huey", "huey_last", "huey_noop"]

huey = RedisHuey(
    os.environ.get("AJ_BENCH_HUEY_NAME", "aj_bench"),
    url=os.environ.get("AJ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    serializer=JSONSerializer(),
)
activejob.configure(adapter=HueyAdapter(huey))


@huey.task(retries=0)
def huey_noop(n: int) -> None:
    """Huey's own no-op task."""


@huey.task(retries=0)
def huey_last() -> int:
    """Enqueued after a batch: one worker runs in order, so its result means all ran."""
    return 1
