"""What the four bridges (Celery, Dramatiq, RQ, Huey) share: the user's object a
URL option names, and the one-time preparation of a foreign worker process.

Each bridge registers one task on the foreign system whose body hands our payload
to :func:`activejob.execute`; this module holds the parts of that which would
otherwise be written once per bridge.

Example::

    app = load_object("proj.celery:app")
    prepare = WorkerPreparation("rq", "start the worker with ACTIVEJOB_ADAPTER=rq:...")
    run_in_worker(payload, prepare, "for rq worker, name it in ACTIVEJOB_IMPORTS")
    queue.enqueue_call(PERFORM, args=(message_payload(job),))
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from activejob.config import get_config
from activejob.errors import ConfigurationError, UnknownJobClassError
from activejob.job.core import compact_payload_of
from activejob.job.execution import execute
from activejob.job.registry import import_modules

if TYPE_CHECKING:
    from activejob.job.base import Job

__all__ = ["WorkerPreparation", "load_object", "message_payload", "run_in_worker"]

logger = logging.getLogger("activejob")


def message_payload(job: Job) -> dict[str, Any]:
    """The payload a bridge puts in the foreign system's message: the compact form
    (:func:`~activejob.job.core.compact_payload_of`, keys at their defaults left out),
    which :func:`activejob.execute` reads as it reads the full one. A no-op job's
    payload shrinks from about 345 bytes of JSON to about 190: the foreign client
    encodes, compresses (RQ) and sends that much less per message.

    Example::

        task.apply_async(args=(message_payload(job),))
    """
    return compact_payload_of(job)


def load_object(spec: str) -> object:
    """The object at ``"module:attr"`` (``attr`` may be dotted), the form a bridge URL
    uses to name the user's app, broker or Huey instance.

    Raises :class:`ConfigurationError` for a malformed spec or one that names
    nothing.

    Example::

        load_object("proj.tasks:huey")
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(f"expected 'module:attribute', got {spec!r}")
    try:
        found: object = importlib.import_module(module_name)
        for name in attr.split("."):
            found = getattr(found, name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load {spec!r}: {exc}") from exc
    return found


class WorkerPreparation:
    """Once per process, in a foreign worker: import ``ACTIVEJOB_IMPORTS`` (the job
    modules) and warn, once, when activejob there is configured with an adapter of
    another scheme, since a retry would then be enqueued where no worker of this
    system reads.

    Example::

        prepare = WorkerPreparation("huey", "call activejob.configure(adapter=HueyAdapter(huey))")
        prepare()
    """

    def __init__(self, scheme: str, advice: str) -> None:
        self.scheme = scheme
        self.advice = advice
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if self._done:
            return
        with self._lock:
            if self._done:
                return
            names = os.environ.get("ACTIVEJOB_IMPORTS", "").split(",")
            import_modules([name.strip() for name in names if name.strip()])
            setting = get_config().adapter_url()
            if not self._is_ours(setting):
                logger.warning(
                    "activejob in this %s worker is configured with adapter %r, so "
                    "retries of bridged jobs go there, not back to %s: %s",
                    self.scheme,
                    setting,
                    self.scheme,
                    self.advice,
                )
            self._done = True

    def _is_ours(self, setting: Any) -> bool:
        if isinstance(setting, str):
            return setting.startswith(f"{self.scheme}:")
        return getattr(setting, "scheme", None) == self.scheme


def run_in_worker(payload: dict[str, Any], prepare: WorkerPreparation, import_hint: str) -> None:
    """The body of a bridge's task in a foreign worker: prepare the process, then run
    the payload with all our rules. A payload naming no registered job class raises
    :class:`UnknownJobClassError` with ``import_hint`` (how that worker imports job
    modules), and the foreign system records the failure.
    """
    prepare()
    try:
        execute(payload)
    except UnknownJobClassError as exc:
        # The registry's advice names activejob's own worker: say how this one imports.
        raise UnknownJobClassError(f"{exc}; {import_hint}") from exc
