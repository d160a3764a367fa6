"""Waking threads blocked in ``Storage.wait`` from inside this process.

A storage bumps the signal when it learns a job may be claimable (a push from
this process, a PostgreSQL ``NOTIFY``) and when a worker stops. Each thread
remembers the last generation it has seen: ``mark()`` at the start of a claim,
so a job that arrives between an empty claim and the next ``wait`` is not
missed. Notifications carry the queue they concern, and a waiter ignores those
for queues it does not serve.

Example::

    signal = WakeSignal()
    signal.mark()                       # before claiming
    ...                                 # claim found nothing
    signal.wait(selector, timeout=1.0)  # True once notify("default") happens
"""

from __future__ import annotations

import threading
import time
from collections import deque

from activejob.storage.selector import QueueSelector

__all__ = ["WakeSignal"]


class WakeSignal:
    """A generation counter with the recent queue names, under one condition."""

    def __init__(self, history: int = 256) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._recent: deque[tuple[int, str | None]] = deque(maxlen=history)
        self._seen = threading.local()

    def mark(self, *, keep: bool = False) -> None:
        """Remember, for this thread, that it has looked for work just now.

        With ``keep``, a thread that has marked (or waited) before keeps its older
        mark, so what was signalled since then still wakes its next wait.
        """
        if keep and hasattr(self._seen, "generation"):
            return
        self._seen.generation = self._generation

    def notify(self, queue_name: str | None = None) -> None:
        """Wake waiters that serve ``queue_name`` (every waiter for ``None``)."""
        with self._cond:
            self._generation += 1
            self._recent.append((self._generation, queue_name))
            self._cond.notify_all()

    def wait(self, selector: QueueSelector, timeout: float) -> bool:
        """Block until a notification for ``selector`` newer than this thread's
        mark, or ``timeout``. Returns whether one came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            since = getattr(self._seen, "generation", self._generation)
            try:
                while True:
                    if self._relevant_since(since, selector):
                        return True
                    since = self._generation
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            finally:
                self._seen.generation = self._generation

    def _relevant_since(self, since: int, selector: QueueSelector) -> bool:
        if self._generation == since:
            return False
        if not self._recent or self._recent[0][0] > since + 1:
            return True  # older notifications fell out of the history: assume relevant
        return any(
            generation > since and (queue is None or selector.matches(queue))
            for generation, queue in self._recent
        )
