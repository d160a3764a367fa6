"""``make chaos`` in small: 300 jobs on each backend through 2 real ``activejob
worker`` commands, SIGKILLed at random every ~0.7 s and replaced, the server
restarted once half-way (see ``bench/chaos.py``). Nothing lost, nothing stuck,
every duplicate a run that was in flight in a killed process (or a claim the
PostgreSQL crash forgot). MariaDB's run is a private ``mariadbd``, SIGKILLed and
started again on its data folder."""

from __future__ import annotations

import dataclasses

import pytest

from tests.reliability.chaos_support import chaos, run_or_skip

SMALL = chaos.Chaos(
    jobs=300,
    workers=2,
    kill_every=0.7,
    work=0.02,  # 300 x 20 ms over 4 threads: ~1.5 s of work, several kills into it
    flags=chaos.WorkerFlags(threads=2),
)


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("redis", marks=pytest.mark.redis),
        # A private MariaDB, SIGKILLed once: InnoDB's crash recovery on the restart.
        pytest.param("mariadb", marks=pytest.mark.mysql),
        # Jobs in flight through PgBouncer (transaction mode) while PostgreSQL restarts.
        pytest.param("pgbouncer", marks=pytest.mark.postgresql),
    ],
)
def test_nothing_lost_or_stuck_through_kills_and_a_restart(backend: str) -> None:
    report = run_or_skip(backend, SMALL)

    assert report.kills >= 1 and report.restarts == 1, report
    assert report.ok, "\n".join([report.row(), *report.notes])
    assert (report.lost, report.stuck) == (0, 0)
    assert report.duplicates == report.explained


def test_four_processes_per_worker_under_kills() -> None:
    """``--processes 4``: a killed child is replaced by its supervisor, which hands it
    the dead one's jobs; a killed group by a new command, its jobs by heartbeat."""
    # 8 slots in all: jobs twice as long as SMALL's keep the run as long.
    flags = chaos.WorkerFlags(threads=1, processes=4)
    settings = dataclasses.replace(SMALL, work=0.04, flags=flags)
    report = run_or_skip("sqlite", settings)

    assert report.kills >= 1 and report.ok, "\n".join([report.row(), *report.notes])


def test_async_jobs_under_kills() -> None:
    """``async def`` jobs on the event loop, killed mid-await like thread jobs."""
    # Two async slots per process, as the sync runs have two threads: the jobs take
    # as long, so the kills land while they run.
    flags = chaos.WorkerFlags(threads=2, extra=("--async-concurrency", "2"))
    report = run_or_skip("sqlite", dataclasses.replace(SMALL, async_jobs=True, flags=flags))

    assert report.kills >= 1 and report.ok, "\n".join([report.row(), *report.notes])
