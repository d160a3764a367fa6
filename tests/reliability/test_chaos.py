"""``make chaos`` in small: 300 jobs on each backend through 2 real ``activejob
worker`` commands, SIGKILLed at random every ~0.7 s and replaced, the server
restarted once half-way (see ``bench/chaos.py``). Nothing lost, nothing stuck,
every duplicate a run that was in flight in a killed process (or a claim the
PostgreSQL crash forgot)."""

from __future__ import annotations

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
    ],
)
def test_nothing_lost_or_stuck_through_kills_and_a_restart(backend: str) -> None:
    report = run_or_skip(backend, SMALL)

    assert report.kills >= 1 and report.restarts == 1, report
    assert report.ok, "\n".join([report.row(), *report.notes])
    assert (report.lost, report.stuck) == (0, 0)
    assert report.duplicates == report.explained
