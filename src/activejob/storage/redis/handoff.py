"""New jobs handed straight to idle fetchers: no Pub/Sub hop, no claim round trip.

A worker's fetcher that found nothing to claim registers itself as idle
(``idle.lua``: under ``<prefix>idle``, with its queue entries and a deadline) and
blocks in ``BLPOP`` on its own list, ``<prefix>handoff:<worker id>``. The push
script, given a plain job (due now, no rate or concurrency limit, not unique) for a
queue that is not paused and has nothing ready, claims it for one such fetcher as
``claim.lua`` would (running, attempts 1, in the worker's in-progress set) and
pushes it onto that list; the fetcher wakes with the job itself. Every other
script that makes a job claimable (``notify`` in ``_lib.lua``) pushes ``''`` to
the idle fetchers of that queue instead: they wake and claim as before.

Whoever hands a fetcher something removes its registration in the same script, so
a registration carries one job or one wake-up. A wait that ends otherwise (its
timeout, or ``'s'`` pushed by :meth:`Handoff.notify_stop` from the worker's own
process) ends the registration with ``unidle.lua``, which returns anything handed
to it meanwhile. A job handed to a fetcher is already in its worker's in-progress
set, so if that worker dies the job is recovered with the others, and a worker
that unregisters gives it back. A fetcher that died while idle keeps its
registration until the deadline (its wait's timeout, at most :data:`LONGEST`, plus
:data:`SLACK`): at most one job is handed to it, and recovery releases that one.

Needs Redis 6.0 (``BLPOP`` with a fractional timeout); on an older server, with a
``socket_timeout`` under 0.2 s, or with ``?handoff=0`` in the URL, fetchers wait on
Pub/Sub as before.

Example::

    jobs = storage.wait_handoff("host:1:ab", ["default"], timeout=1.0)
    # [] after a wake-up or the timeout (claim next), else the jobs handed over
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import redis

from activejob import _time
from activejob.storage.base import ClaimedJob
from activejob.storage.redis import records
from activejob.storage.redis.scripts import Scripts

LONGEST = 1.0
"""Seconds a registration lasts at most (a longer wait registers again): a fetcher that
died or lost its connection while idle is handed a job only that long."""
SLACK = 0.5
"""Seconds a registration outlives its fetcher's wait (clock skew, a slow wake-up):
pushes after that go to the ready sets, where the fetcher claims them."""
PAST_DUE = 0.0005
"""A wait for a scheduled job ends this long after it is due, so that the claim that
follows finds it due."""
REPLY_GRACE = 2.0
"""Seconds beyond its timeout that a ``BLPOP`` reply may take before the connection
is taken for dead."""

Run = Callable[..., Any]


class Handoff:
    """The fetcher's side of the hand-off, for one storage (see the module docstring).

    ``script(name, *args)`` runs a script as the storage does (clock and prefix
    first, errors mapped); ``call(operation)`` runs a command that must not be
    retried, mapping its errors.
    """

    def __init__(self, client: redis.Redis, scripts: Scripts, key_prefix: str) -> None:
        self._client: Any = client
        self._scripts = scripts
        self._prefix = key_prefix
        self._lock = threading.Lock()
        self._known: set[str] = set()
        """Worker ids whose fetchers waited here: each is told of a stop."""
        self._supported: bool | None = None
        kwargs = client.connection_pool.connection_kwargs
        self._socket_timeout: float | None = kwargs.get("socket_timeout")

    def supported(self, call: Run) -> bool:
        """Whether the server has ``BLPOP`` with fractional timeouts (Redis 6.0), and
        the URL's ``socket_timeout`` (if any) leaves room for a blocking wait."""
        if self._socket_timeout is not None and self._socket_timeout < 0.2:
            return False
        if self._supported is None:
            info = call(lambda: self._client.info("server"))
            major = int(str(info.get("redis_version", "0")).split(".")[0] or 0)
            self._supported = major >= 6
        return self._supported

    def wait(
        self,
        script: Run,
        call: Run,
        worker_id: str,
        entries: Sequence[str],
        timeout: float,
        interrupted: Callable[[], bool],
        announced: Callable[[float], bool],
    ) -> list[ClaimedJob]:
        """Register ``worker_id`` as idle on ``entries`` and block until a job is
        handed to it (returned), a wake-up, ``interrupted()`` or ``timeout`` (``[]``:
        claim next). ``interrupted`` says whether this thread was woken since its
        last claim (a stop, or an announcement on its queues); ``announced(seconds)``
        waits for one, on Pub/Sub: the wait used, unregistered, when a job comes due
        within ``timeout`` (its timer is ours, to the millisecond)."""
        with self._lock:
            self._known.add(worker_id)
        # From here on a notify_stop reaches the list (and idle.lua sees it there); a
        # stop or an announcement since this thread's last claim shows in interrupted().
        if interrupted():
            return []
        timeout = min(timeout, LONGEST)
        deadline = _time.now() + timeout + SLACK
        horizon = records.stamp(_time.now() + timeout)
        reply = script("idle", worker_id, 1000, records.stamp(deadline), horizon, *entries)
        code, next_due = int(reply[0]), reply[1]
        if code == 1:
            return _jobs(reply[2:])
        if code == 2:
            announced(max(0.0, float(next_due) - _time.now()) + PAST_DUE)
            return []
        block = timeout
        if self._socket_timeout is not None:
            block = min(block, self._socket_timeout - 0.05)
        item = None
        if block > 0:
            key = self._prefix + "handoff:" + worker_id
            reply = call(
                lambda: self._scripts.block(block + REPLY_GRACE, "BLPOP", key, f"{block:.4f}")
            )
            item = None if reply is None else reply[1]
        if item == "":
            return []  # a wake-up: whoever sent it ended the registration
        if item is not None and item != "s":
            return [_claimed(item)]  # a job: so did whoever handed it over
        return _jobs(script("unidle", worker_id))

    def notify_stop(self) -> None:
        """Wake this process's fetchers blocked in :meth:`wait`, or about to be: the
        ``'s'`` waits in the list of each that ever waited here (one that was not
        waiting finds it when it next does, and claims once more)."""
        with self._lock:
            known = list(self._known)
        if not known:
            return
        pipe = self._client.pipeline(transaction=False)
        for worker_id in known:
            pipe.lpush(self._prefix + "handoff:" + worker_id, "s")
        pipe.execute()


def _jobs(items: Sequence[str]) -> list[ClaimedJob]:
    """The jobs among hand-off list entries (wake-ups left out)."""
    return [_claimed(item) for item in items if item not in ("", "s")]


def _claimed(item: str) -> ClaimedJob:
    return records.claimed_job([str(value) for value in json.loads(item)])
