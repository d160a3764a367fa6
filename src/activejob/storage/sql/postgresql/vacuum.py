"""Keep the claim path short: ``VACUUM`` the jobs table once claims left enough
dead row versions in it, without waiting for autovacuum.

Why: a claim walks the claim index (partial, over ``ready``/``scheduled`` rows)
from its start. Every job claimed leaves a dead entry there, right at the start
of the walk, and only a ``VACUUM`` removes it. Autovacuum looks at a table once
per ``autovacuum_naptime`` (a minute by default) and then works at a throttled
pace, so a worker going through a backlog at thousands of jobs a second had each
claim step over hundreds of thousands of dead entries: claims got steadily
slower (about half as fast after 300,000 jobs, see ``docs/reliability.md``), and
the heap grew to three row versions per job.

How: every :data:`CHECK_EVERY` jobs this process claims, a background thread asks
the statistics how many dead row versions the table holds (autovacuum's own
estimate, over every process's work), and runs ``VACUUM (SKIP_LOCKED,
INDEX_CLEANUP ON)`` once it is ``dead_rows`` or more. ``SKIP_LOCKED``: when another
process (or autovacuum) is vacuuming the table already, this one does nothing.
``INDEX_CLEANUP ON``: the dead entries in the claim index are the point, and
PostgreSQL would otherwise skip the index pass when few heap pages have dead
rows. After a vacuum that took ``t`` seconds the next waits at least ``4 t``, so
vacuuming takes at most a fifth of one server process, however large the table.
A role that may not vacuum the table (neither its owner nor the database's)
never tries; ``vacuum_dead_rows=0`` in the URL leaves it all to autovacuum.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CHECK_EVERY", "DEFAULT_DEAD_ROWS", "Vacuum"]

logger = logging.getLogger("activejob.storage.postgresql")

DEFAULT_DEAD_ROWS = 50_000
"""Dead row versions (two per job run: its claim and its result) that start a vacuum."""
CHECK_EVERY = 5_000
"""Jobs claimed by this process between two looks at the statistics."""
DUTY = 4.0
"""After a vacuum of ``t`` seconds, the next waits ``DUTY * t`` at least."""
RETRY_AFTER = 30.0
"""Seconds before the next try after a vacuum (or its look) failed."""


class Vacuum:
    """Counts the jobs a storage claims and vacuums its jobs table in the background.

    ``connect`` opens an autocommit connection, the thread's own, kept open between
    looks (the storage's pool is left to the workers: its size does not move);
    ``run(conn, name)`` executes a named query (``vacuum_due``, ``vacuum_jobs``).

    Example::

        vacuum = Vacuum(storage._open, storage._run_unprepared, dead_rows=50_000)
        vacuum.claimed(len(jobs))  # after each claim
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        run: Callable[[Any, str], Any],
        *,
        dead_rows: int = DEFAULT_DEAD_ROWS,
        check_every: int = CHECK_EVERY,
    ) -> None:
        self.connect, self.run = connect, run
        self._conn: Any = None
        self.dead_rows, self.check_every = dead_rows, check_every
        self.vacuums = 0
        """How many vacuums this process ran (for tests and logs)."""
        self._lock = threading.Lock()
        self._since = 0
        self._not_before = 0.0
        self._thread: threading.Thread | None = None
        self._due = threading.Event()
        """Set while a look (and maybe a vacuum) is asked for or under way."""
        self._closed = False

    def claimed(self, count: int) -> None:
        """Note ``count`` jobs claimed; look at the table in the background when due."""
        if not count or not self.dead_rows:
            return
        with self._lock:
            self._since += count
            if self._since < self.check_every or self._closed or self._due.is_set():
                return
            if time.monotonic() < self._not_before:
                return
            self._since = 0
            if self._thread is None or not self._thread.is_alive():  # (gone after a fork)
                # One thread for the storage's life, started once the table is busy.
                self._thread = threading.Thread(
                    target=self._loop, name="activejob-vacuum", daemon=True
                )
                self._thread.start()
            self._due.set()

    def _loop(self) -> None:
        while True:
            self._due.wait()
            if self._closed:
                return
            self._look()
            with self._lock:  # close() sets _due under the lock: never cleared after it
                if self._closed:
                    return
                self._due.clear()

    def _look(self) -> None:
        try:
            if self._conn is None:
                self._conn = self.connect()
            row = self.run(self._conn, "vacuum_due").fetchone()
            if row is None or not row[1]:
                logger.info("not allowed to VACUUM activejob_jobs: left to autovacuum")
                self.dead_rows = 0
                return
            if int(row[0] or 0) < self.dead_rows:
                return
            began = time.monotonic()
            self.run(self._conn, "vacuum_jobs")
            took = time.monotonic() - began
            self.vacuums += 1
            self._not_before = time.monotonic() + DUTY * took
            logger.debug("vacuumed activejob_jobs (%d dead rows) in %.2fs", row[0], took)
        except Exception as exc:  # a server restart, a closed pool: try again later
            self._not_before = time.monotonic() + RETRY_AFTER
            self._drop()
            if not self._closed:
                logger.warning("VACUUM activejob_jobs failed (%s); next in %ss", exc, RETRY_AFTER)

    def close(self, timeout: float = 5.0) -> None:
        """Start no more vacuums; wait up to ``timeout`` for one in progress."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._due.set()
        if thread is not None:
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
