"""How many jobs of a queue succeeded, exactly, for the benchmarks' end conditions.

``Storage.queues()`` counts each state of a SQL store only up to
:data:`~activejob.storage.browse.COUNT_CAP` (10,000; a capped count is listed in
``QueueInfo.capped``), so a run of more jobs than that would wait for a count
that never comes. Here a SQL store counts up to the number the caller waits for.

Example::

    while succeeded(storage, QUEUE, n) < n: ...
"""

from __future__ import annotations

from activejob.storage.base import JobState, Storage
from activejob.storage.browse import COUNT_CAP
from activejob.storage.sql.base import SQLStorage
from activejob.storage.sql.browse import capped_queues


def succeeded(storage: Storage, queue: str, up_to: int) -> int:
    """The succeeded jobs of ``queue``: exact up to ``up_to`` at least (a Redis
    store's counts are always exact)."""
    if isinstance(storage, SQLStorage):
        infos = capped_queues(storage, cap=max(up_to, COUNT_CAP))
    else:
        infos = storage.queues()
    for info in infos:
        if info.name == queue:
            return info.counts.get(JobState.SUCCEEDED, 0)
    return 0
