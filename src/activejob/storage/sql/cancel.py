"""Cancellation on the SQL storages (flow: cancellation): a waiting job is
discarded at once; a running one gets a request its worker's overseer hears (the
wake signal in this process, ``announce_cancel`` where the dialect notifies
others) and reads with :meth:`CancelOps._cancel_requests`.

Example::

    storage.cancel(job_id)   # Cancellation(job_id, "requested", JobState.RUNNING)
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from activejob import _time
from activejob.storage.base import (
    CANCEL_NOTICE,
    Cancellation,
    JobInfo,
    JobState,
    cancel_error,
)
from activejob.storage.selector import QueuePattern, QueueSelector
from activejob.storage.sql.connection import SQLConnection
from activejob.storage.sql.rows import error_params

__all__ = ["CANCEL_SELECTOR", "CancelOps"]

CANCEL_SELECTOR = QueueSelector((QueuePattern("exact", CANCEL_NOTICE),))
"""What a worker's overseer waits for on the wake signal (flow: cancellation)."""


class CancelOps(SQLConnection):
    """The cancellation part of :class:`~activejob.storage.sql.base.SQLStorage`."""

    if TYPE_CHECKING:  # supplied by ConcurrencyOps (sql/concurrency.py)

        def release_cancelled(self, conn: Any, row_id: Any, now: float) -> builtins.list[str]: ...

        def announce_unblocked(self, job_ids: Sequence[str]) -> None: ...

    def _cancel(self, job_id: str) -> Cancellation | None:
        now = _time.now()
        with self._transaction() as conn:
            row = self._run(conn, "cancel_find", {"job_id": job_id}).fetchone()
            if row is None:
                return None
            state = JobState(row[1])
            params = {"id": row[0], "now": now, **error_params(cancel_error(running=False))}
            if state is JobState.RUNNING:
                self._run(conn, "cancel_request", params)
                if "announce_cancel" in self.sql.queries:
                    self._run(conn, "announce_cancel", {"notice": CANCEL_NOTICE})
                outcome: Any = "requested"
            elif state.finished:
                outcome = "finished"
            else:
                self._run(conn, "cancel_discard", params)
                outcome = "discarded"
                unblocked = self.release_cancelled(conn, row[0], now)  # flow: concurrency
        if outcome == "requested":
            self._signal.notify(CANCEL_NOTICE)  # a worker in this process hears it at once
        elif outcome == "discarded":
            self.announce_unblocked(unblocked)
        return Cancellation(job_id, outcome, state)

    def _cancel_requests(self, worker_id: str) -> builtins.list[Any]:
        with self._connection() as conn:
            rows = self._run(conn, "cancel_requests", {"worker_id": worker_id}).fetchall()
        return [row[0] for row in rows]

    def _wait_cancel(self, timeout: float) -> bool:
        return self._signal.wait(CANCEL_SELECTOR, timeout)

    def _mark_cancel_requested(self, conn: Any, infos: Sequence[JobInfo]) -> None:
        """Set ``cancel_requested`` on the running ``infos`` asked to stop (one query)."""
        running = {int(info.id): info for info in infos if info.state is JobState.RUNNING}
        if not running:
            return
        params = {"ids": json.dumps(sorted(running))}
        for row in self._run(conn, "cancel_pending", params).fetchall():
            running[int(row[0])].cancel_requested = True

    def _discard_cancelled(self, conn: Any) -> None:
        """Discard the jobs released unrun during the claim a cancel was asked in."""
        params = {"now": _time.now(), **error_params(cancel_error(running=True))}
        self._run(conn, "discard_cancelled", params)
