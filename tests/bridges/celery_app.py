"""The Celery app of the bridge tests, loaded by ``celery -A tests.bridges.celery_app``.

A worker started with ``AJ_BRIDGE_BROKER``, ``AJ_BRIDGE_BACKEND`` and
``AJ_BRIDGE_PREFIX`` in its environment builds the same app as the test process
(:func:`make_app`). It builds no adapter: the app includes
``activejob.adapters.celery`` (which brings the task) and the worker's
``ACTIVEJOB_ADAPTER=celery:?app=tests.bridges.celery_app:app`` is the adapter its
retries go through, so the tests cover the URL form on the worker side while the
test process uses ``CeleryAdapter(app)``.
"""

from __future__ import annotations

import os

from celery import Celery

import activejob
from activejob.adapters.celery import CeleryAdapter

JOB_MODULES = ["activejob.adapters.celery", "tests.bridges.jobs", "tests.globalid.e2e_app"]


def make_app(broker: str, backend: str | None, prefix: str) -> Celery:
    """An app whose default queue is ``<prefix>_default``; no remote control."""
    celery = Celery("ajbridge", broker=broker, backend=backend, include=JOB_MODULES)
    celery.conf.update(
        task_default_queue=f"{prefix}_default",
        task_queue_max_priority=10,
        worker_enable_remote_control=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return celery


def configure(celery: Celery, prefix: str) -> CeleryAdapter:
    """activejob on this app: queue names under ``prefix``."""
    adapter = CeleryAdapter(celery)
    activejob.configure(adapter=adapter, queue_name_prefix=prefix)
    return adapter


if os.environ.get("AJ_BRIDGE_BROKER"):
    app = make_app(
        os.environ["AJ_BRIDGE_BROKER"],
        os.environ.get("AJ_BRIDGE_BACKEND"),
        os.environ["AJ_BRIDGE_PREFIX"],
    )
    activejob.configure(queue_name_prefix=os.environ["AJ_BRIDGE_PREFIX"])
