"""The cancel side of a durable backend (flow: cancellation, DESIGN §8), mixed into
:class:`~activejob.storage.base.Storage` as :mod:`.recurring` is.

:meth:`CancelStorage.cancel` is one atomic change: a waiting job is discarded, a
running one is marked for the claim it runs under (its worker finds it with
:meth:`~CancelStorage.cancel_requests`, woken by :meth:`~CancelStorage.wait_cancel`),
a finished one is left alone. A backend implements ``_cancel``,
``_cancel_requests`` and ``_wait_cancel``, and discards a marked job it hands back
unrun (recovery, a drain, a stored retry) instead of queueing it again.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from activejob import events
from activejob.errors import JobNotFound, shorten

if TYPE_CHECKING:
    from activejob.storage.base import JobState

__all__ = ["CANCEL_NOTICE", "CancelStorage", "Cancellation"]


CANCEL_NOTICE = "\x01cancel"
"""What a backend's wake-up channel carries for a cancel request (never a queue name
anyone uses; a worker that hears it as one only claims once more)."""


@dataclass(frozen=True)
class Cancellation:
    """What :meth:`Storage.cancel` did (flow: cancellation).

    ``outcome`` is ``"discarded"`` (the job waited: it is discarded now),
    ``"requested"`` (it runs: its worker is asked to stop it) or ``"finished"``
    (it had ended already: nothing changed). ``state`` is the state the job was in.

    Example::

        storage.cancel(job_id)   # Cancellation(job_id='0b6c…', outcome='requested', state=…)
    """

    job_id: str
    outcome: Literal["discarded", "requested", "finished"]
    state: JobState

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"job_id": self.job_id, "outcome": self.outcome, "state": self.state.value}


class CancelStorage(ABC):
    """``cancel``, ``cancel_requests`` and ``wait_cancel``: see the module docstring."""

    def cancel(self, job_id: str) -> Cancellation:
        """Cancel the newest job with this ``job_id``, atomically: a waiting one
        (scheduled, ready, blocked) is discarded at once, with a
        :class:`~activejob.JobCancelled` error; a running one is marked, and its
        worker, told through the backend's wake-up channel (or at its next look,
        within a heartbeat interval), stops it; a finished one is left alone.
        Raises :class:`~activejob.JobNotFound` for an unknown id. Emits ``cancel``.

        Example::

            storage.cancel("0b6c2f1e-...").outcome   # 'discarded', 'requested' or 'finished'
        """
        _check_id("job_id", job_id)
        found = self._cancel(job_id)
        if found is None:
            raise JobNotFound(f"no job with id {shorten(job_id)!r}")
        events.emit("cancel", job_id=job_id, outcome=found.outcome, state=found.state.value)
        return found

    def cancel_requests(self, worker_id: str) -> builtins.list[Any]:
        """The storage ids of ``worker_id``'s running jobs that were asked to stop
        during their current claim (what a worker's overseer delivers)."""
        _check_id("worker_id", worker_id)
        return self._cancel_requests(worker_id)

    def wait_cancel(self, timeout: float) -> bool:
        """Block until a cancel request may have been made, or ``timeout`` passes;
        whether one was signalled (``False`` on timeout; a ``True`` may be spurious).
        Backends without a wake-up channel just wait."""
        return self._wait_cancel(max(float(timeout), 0.0))

    @abstractmethod
    def _cancel(self, job_id: str) -> Cancellation | None:
        """Cancel the newest job with ``job_id`` atomically; ``None`` if none."""

    @abstractmethod
    def _cancel_requests(self, worker_id: str) -> builtins.list[Any]: ...

    @abstractmethod
    def _wait_cancel(self, timeout: float) -> bool: ...


def _check_id(what: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
