"""The heartbeat thread: "I am alive", recovery of dead workers' jobs, pruning.

Every ``heartbeat_interval`` it calls ``storage.heartbeat`` (which keeps this
worker's running jobs from being recovered), then ``storage.recover`` (which
releases the jobs of workers silent for ``recover_after`` seconds and fails
likely poison jobs), and every ``prune_interval`` ``storage.prune`` (finished jobs
older than ``retention``, by default the storage's ``keep_finished``). Every
worker process does this; the storage makes each call atomic, so many
recovering at once is safe. A supervised process first recovers, precisely, the
processes that died before it (:meth:`Heartbeat.recover_worker`).

A worker that could not beat for a while (the server was down, or unreachable)
does not recover for ``recover_after`` seconds after it gets through again: the
other live workers were cut off too, and their heartbeats look as stale as a dead
worker's until each has beaten again. Recovering at once would release the jobs
they are still running, which would then run twice at the same time.

Emits ``worker_recover`` (``released``, ``failed``) when recovery did something.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from activejob import events
from activejob.storage.base import Storage
from activejob.worker.options import WorkerOptions

if TYPE_CHECKING:
    from activejob.worker.board import LostWorker

__all__ = ["Heartbeat"]

logger = logging.getLogger("activejob.worker")


class Heartbeat:
    """Beats, recovers and prunes on a timer until :meth:`stop`.

    Example::

        heartbeat = Heartbeat(storage, worker_id, options, info=lambda: {"running": 0})
        heartbeat.beat()   # once, before the first claim
        heartbeat.start()
    """

    def __init__(
        self,
        storage: Storage,
        worker_id: str,
        options: WorkerOptions,
        info: Callable[[], dict[str, Any]],
    ) -> None:
        self.storage = storage
        self.worker_id = worker_id
        self.options = options
        self._info = info
        self._stop = threading.Event()
        self._next_prune = time.monotonic()
        self._last_beat: float | None = None
        """When the last heartbeat went through (monotonic)."""
        self._recover_from = 0.0
        """Recovery waits until then (monotonic): after this worker was cut off."""
        self._thread = threading.Thread(target=self._loop, name="activejob-heartbeat", daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer thread (waits for a call in flight, at most a second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(1.0)

    def beat(self) -> None:
        """Heartbeat once; raises what the storage raises."""
        self.storage.heartbeat(self.worker_id, self._info())
        now = time.monotonic()
        if (
            self._last_beat is not None
            and now - self._last_beat > 2 * self.options.heartbeat_interval
        ):
            # Cut off (or stalled) for a tick or more: so, maybe, was every other worker.
            self._recover_from = now + self.options.recover_after
        self._last_beat = now

    @property
    def recovery_paused(self) -> bool:
        """Whether recovery waits because this worker was cut off from the storage
        until recently (see the module's docstring)."""
        return time.monotonic() < self._recover_from

    def recover(self) -> tuple[int, int]:
        """Release dead workers' jobs, fail poison jobs; raises what the storage raises.
        Does nothing while :attr:`recovery_paused`."""
        if self.recovery_paused:
            return 0, 0
        released, failed = self.storage.recover(
            self.options.recover_after, self.options.max_crashes
        )
        if released or failed:
            logger.warning(
                "recovered jobs of dead workers: %d released to run again, %d failed "
                "as likely poison (worker died while running them more than %d times)",
                released,
                failed,
                self.options.max_crashes,
            )
            events.emit(
                "worker_recover", released=released, failed=failed, worker_id=self.worker_id
            )
        return released, failed

    def recover_worker(self, lost: LostWorker) -> tuple[int, int]:
        """Release the jobs of a worker process that died under this one's supervisor,
        a crash counted only on those it had started; raises what the storage raises."""
        released, failed = self.storage.recover_worker(
            lost.worker_id, lost.started, self.options.max_crashes
        )
        logger.warning(
            "recovered the jobs of dead worker %s (a crash counted only on what it had "
            "started: %s): %d released to run again, %d failed as likely poison "
            "(more than %d crashes)",
            lost.worker_id,
            ", ".join(lost.job_ids) or "no job",
            released,
            failed,
            self.options.max_crashes,
        )
        if released or failed:
            events.emit(
                "worker_recover", released=released, failed=failed, worker_id=self.worker_id
            )
        return released, failed

    def _loop(self) -> None:
        while not self._stop.wait(self.options.heartbeat_interval):
            self._tick()

    def _tick(self) -> None:
        # Each step is tried every tick: a lost connection costs one interval, and the
        # next tick's call reconnects.
        for name, step in (("heartbeat", self.beat), ("recovery", self.recover)):
            try:
                step()
            except Exception as exc:
                logger.warning("%s failed (%s: %s)", name, type(exc).__name__, exc)
        retention = self.options.retention
        if retention is None:
            retention = self.storage.keep_finished
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + self.options.prune_interval
            try:
                pruned = self.storage.prune(older_than=retention)
            except Exception as exc:
                logger.warning("pruning failed (%s: %s)", type(exc).__name__, exc)
            else:
                if pruned:
                    logger.info("pruned %d finished job(s) older than %ss", pruned, retention)
