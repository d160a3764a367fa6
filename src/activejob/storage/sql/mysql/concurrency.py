"""How MariaDB/MySQL hands freed concurrency slots on (flow: concurrency).

The other dialects give a key's free slots to its next blocked jobs with a window
over the key's line (LATERAL on PostgreSQL, a rowid subquery on SQLite), plus
``RETURNING``. MariaDB has neither, so a round of
:meth:`~activejob.storage.sql.concurrency.ConcurrencyOps.unblock_keys` is here
three statements, each on as few rows as it can be:

1. ``free_slot_line`` walks each key's line with a recursive query, one index seek
   per job, as :meth:`~activejob.storage.sql.concurrency.ConcurrencyOps.unblock`
   walks it: jobs limited by that key alone take its free slots, and the walk stops
   at the first job that cannot take one, or at a job under several limits (its key
   is handed to ``unblock``, which moves such a job on in order). So it reads the
   rows of the jobs it takes and of the one it stops at, however long the line;
2. ``ready_slot_takers`` makes those jobs ready by id, each re-checked as it is
   locked: a job discarded since is left alone and gets no slot, and its key goes
   to ``unblock`` so that the slot it left goes to the next job at once;
3. ``take_slots`` inserts the slots of the jobs readied.

Where the jobs of one key all declare the same limit (the usual case, and what
``group`` is for), this hands out exactly what the other dialects' window does.

Example::

    with storage._transaction() as conn:
        storage.unblock_keys(conn, ["ChargeJob/42"], _time.now())
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from activejob.storage.sql.concurrency import ConcurrencyOps

__all__ = ["MySQLConcurrency"]


class MySQLConcurrency(ConcurrencyOps):
    """The concurrency half of :class:`~activejob.storage.sql.mysql.MySQLStorage`."""

    def _take_free_slots(
        self, conn: Any, params: dict[str, Any]
    ) -> tuple[builtins.list[str], builtins.list[str], builtins.list[str]]:
        takes: builtins.list[tuple[str, int, str, float]] = []
        stacked: builtins.list[str] = []
        for kind, key, row_id, job_id, duration in self._run(conn, "free_slot_line", params):
            if kind == "take":
                takes.append((str(key), int(row_id), str(job_id), float(duration)))
            else:
                stacked.append(str(key))
        readied = self._ready_takers(conn, takes) if takes else takes
        if readied:
            rows = json.dumps([[key, row_id, duration] for key, row_id, _, duration in readied])
            self._run(conn, "take_slots", {"rows": rows, "now": params["now"]})
        if len(readied) < len(takes):
            # A job that left its line since the walk read it (discarded) took nothing:
            # unblock() hands the slot it left on, job by job.
            kept = {row_id for _, row_id, _, _ in readied}
            stacked.extend(key for key, row_id, _, _ in takes if row_id not in kept)
        return [job_id for _, _, job_id, _ in readied], [key for key, *_ in readied], stacked

    def _ready_takers(
        self, conn: Any, takes: builtins.list[tuple[str, int, str, float]]
    ) -> builtins.list[tuple[str, int, str, float]]:
        """Make the jobs ``free_slot_line`` chose ready; returns those it could (all,
        unless one left its line since the walk read it)."""
        rows = json.dumps([[key, row_id] for key, row_id, _, _ in takes])
        readied = int(self._run(conn, "ready_slot_takers", {"rows": rows}).rowcount)
        if readied == len(takes):
            return takes
        found = {int(row[0]) for row in self._run(conn, "readied_slot_takers", {"rows": rows})}
        return [take for take in takes if take[1] in found]
