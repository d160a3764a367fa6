"""The Huey instance the bridge tests run: ``huey_consumer tests.bridges.huey_app.huey``.

As a user's ``proj/tasks.py`` would: the Huey (JSON messages, priorities on Redis),
the activejob adapter on it, and the modules that define the jobs.
"""

from __future__ import annotations

import os

from huey import PriorityRedisHuey

import activejob
import tests.bridges.rq_huey_jobs  # noqa: F401  the Job classes the consumer runs
from activejob.adapters.huey import HueyAdapter, JSONSerializer

huey = PriorityRedisHuey(
    "aj_bridge_test",
    url=os.environ.get("AJ_HUEY_URL", "redis://127.0.0.1:6379/12"),
    serializer=JSONSerializer(),
)
activejob.configure(adapter=HueyAdapter(huey))
