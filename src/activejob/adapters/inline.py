"""``inline:``: run each job in the caller, at once. For development and scripts.

The job still makes a JSON round trip, so what works inline works on a real
backend. Scheduled jobs are refused with a clear error; a retry runs again at
once (the wait is skipped), so a job's whole retry story plays out in the call,
and an exception no rule handles reaches the caller of ``perform_later``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from activejob.adapters.base import Adapter, payload_copy
from activejob.job.execution import run, settle

if TYPE_CHECKING:
    from activejob.job.base import Job


class InlineAdapter(Adapter):
    """Performs jobs in the calling thread as they are enqueued."""

    scheme: ClassVar[str] = "inline"
    supports_scheduling: ClassVar[bool] = False
    performs_inline: ClassVar[bool] = True

    def __init__(self) -> None:
        self._local = threading.local()

    def enqueue(self, job: Job) -> None:
        payload: dict[str, Any] | None = payload_copy(job)
        settling: _Settling | None = getattr(self._local, "settling", None)
        if settling is not None and settling.job_id == job.job_id:
            # The retry of the job being settled below: the loop runs it, so a
            # long retry story does not nest one call per attempt.
            settling.retry = payload
            return
        try:
            while payload is not None:
                self._local.settling = settling
                outcome = run(payload, adapter=self)
                current = self._local.settling = _Settling(job.job_id)
                settle(outcome)  # a retry comes back through enqueue() into current
                payload = current.retry
        finally:
            self._local.settling = settling


class _Settling:
    """The job whose outcome this thread is settling, and its retry's payload."""

    __slots__ = ("job_id", "retry")

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.retry: dict[str, Any] | None = None
