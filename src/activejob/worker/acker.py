"""Recording results in batches: one ``storage.complete`` per batch.

Executor threads add results as jobs end; one thread takes everything gathered
since its last round trip and records it in one call. It never waits to fill a
batch: while a round trip is in flight results pile up, and the next call takes
them all, so batches grow with load and latency stays one round trip when idle.
A failed call is retried with the same batch (see :mod:`.retrying`). A call that
retrying cannot fix (the schema is gone, the storage refuses a value) is reported
to ``on_fatal``: the worker stops, so that recovery releases those jobs rather
than have them stay ``running`` under a worker that still heartbeats.

Emits ``worker_complete`` (``results``, ``worker_id``) after each recorded batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from activejob import events
from activejob.storage.base import Result, Storage
from activejob.worker.retrying import GaveUp, persist

__all__ = ["Acker"]

logger = logging.getLogger("activejob.worker")


class Acker:
    """Gathers :class:`Result` values and records them with ``storage.complete``.

    Example::

        acker = Acker(storage, worker_id)
        acker.start()
        acker.add(Result(claimed.id, JobState.SUCCEEDED))
        acker.close(timeout=5)
    """

    def __init__(
        self,
        storage: Storage,
        worker_id: str,
        on_fatal: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.storage = storage
        self.worker_id = worker_id
        self.on_fatal = on_fatal
        self._cond = threading.Condition()
        self._pending: list[Result] = []
        self._flushing = False
        self._closing = False
        self._abandon = threading.Event()
        self._lost = False
        self._thread = threading.Thread(target=self._loop, name="activejob-acker", daemon=True)

    def start(self) -> None:
        """Start recording."""
        self._thread.start()

    def add(self, result: Result) -> None:
        """Queue one result for the next round trip."""
        with self._cond:
            self._pending.append(result)
            self._cond.notify_all()

    def add_many(self, results: Sequence[Result]) -> None:
        """Queue several results for the next round trip."""
        if results:
            with self._cond:
                self._pending.extend(results)
                self._cond.notify_all()

    def idle(self) -> bool:
        """Whether every result added so far is recorded (or given up on)."""
        with self._cond:
            return not self._pending and not self._flushing

    def wait_idle(self, timeout: float | None) -> bool:
        """Block until :meth:`idle`; ``False`` if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._flushing, timeout)

    def close(self, timeout: float) -> bool:
        """Record what is pending, then stop. After ``timeout`` seconds of failing
        round trips the rest is abandoned (those jobs are recovered later).
        Returns whether everything was recorded."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join(1.0)
        with self._cond:
            return not self._pending and not self._flushing and not self._lost

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                self._flushing = True
            try:
                self._record(batch)
            finally:
                with self._cond:
                    self._flushing = False
                    self._cond.notify_all()

    def _record(self, batch: list[Result]) -> None:
        batch = _one_per_job(batch)
        try:
            persist(lambda: self.storage.complete(batch), "recording results", self._abandon)
        except GaveUp as exc:
            self._lost = True
            logger.error(
                "%d job result(s) could not be recorded (%s); those jobs stay running "
                "until recovery releases them",
                len(batch),
                exc,
            )
            return
        except Exception as exc:
            self._lost = True
            logger.exception(
                "%d job result(s) could not be recorded; stopping this worker so that "
                "recovery releases those jobs",
                len(batch),
            )
            if self.on_fatal is not None:
                self.on_fatal(exc)
            return
        events.emit("worker_complete", results=batch, worker_id=self.worker_id)


def _one_per_job(batch: list[Result]) -> list[Result]:
    """The first result for each job: a job released twice (two lost claim replies
    in a row) must not make the storage refuse the whole batch."""
    seen: set[object] = set()
    unique = []
    for result in batch:
        if result.id not in seen:
            seen.add(result.id)
            unique.append(result)
    return unique
