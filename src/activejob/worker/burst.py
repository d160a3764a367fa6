"""Burst mode's question: is there more work for this worker's queues, and when?

Example::

    due_in = next_due(storage, options, stopping, claimed_since)  # None: the burst ends
"""

from __future__ import annotations

import threading

from activejob import _time
from activejob.storage.base import JobFilter, JobState, Storage
from activejob.storage.selector import QueueSelector
from activejob.worker.options import WorkerOptions
from activejob.worker.retrying import GaveUp, persist

__all__ = ["next_due"]


def next_due(
    storage: Storage,
    options: WorkerOptions,
    stopping: threading.Event,
    claimed_since: float,
    *,
    recheck: bool = True,
) -> float | None:
    """Burst mode: seconds to wait for more work on our queues, or ``None`` when
    there is none: nothing running anywhere (a dead worker's job is released by
    recovery and runs here) and nothing scheduled within ``burst_horizon``.

    Jobs due before the last claim were claimable then, so one that is due but
    was not claimed (a paused queue) does not hold the worker. A ready job may
    also be a rate-limited one whose window freed between the last claim and this
    listing (it lists as held no more): with ``recheck``, such a job asks for one
    more claim (0.0) rather than end the burst with it still waiting."""
    horizon = _time.now() + options.burst_horizon
    try:
        paused = persist(
            lambda: {q.name for q in storage.queues() if q.paused},
            "listing queues",
            stopping,
        )
        # READY too: a scheduled job that came due since the last claim is listed
        # as ready, and it is work for this burst.
        pending = persist(
            lambda: storage.list(
                JobFilter(
                    states=[JobState.SCHEDULED, JobState.READY, JobState.RUNNING],
                    limit=None,
                )
            ),
            "listing pending jobs",
            stopping,
        )
    except GaveUp:
        return None
    selector = QueueSelector.parse(options.queues)
    ours = [info for info in pending if selector.matches(info.queue_name)]
    if any(info.state is JobState.RUNNING for info in ours):
        return options.poll_interval
    # flow: rate limits -- a ready job held by its rate limit is due when it frees.
    due = {info.id: (info.rate_limited_until or info.run_at).timestamp() for info in ours}
    waiting = [info for info in ours if info.queue_name not in paused]
    upcoming = [due[i.id] for i in waiting if claimed_since < due[i.id] <= horizon]
    if upcoming:
        return max(0.0, min(upcoming) - _time.now())
    if recheck and any(info.state is JobState.READY for info in waiting):
        return 0.0
    return None
