"""A server outage longer than ``--recover-after``: when the server comes back,
every worker's heartbeat is stale, the live ones' too. The first worker to get
through must not take the running jobs of the others (which have not beaten yet)
for a dead worker's: each job runs once, its first run's result recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobState, Storage
from tests.acceptance.test_worker_cli import CLI
from tests.reliability.chaos_support import chaos
from tests.support import job_state, wait_for
from tests.worker.jobs import WaitForFile

pytestmark = pytest.mark.postgresql

RECOVER_AFTER = 2.0


@pytest.fixture
def workers() -> Iterator[list[CLI]]:
    started: list[CLI] = []
    yield started
    for cli in started:
        if cli.proc.poll() is None:
            cli.proc.kill()
            cli.proc.wait(10)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_running_jobs_stay_with_their_live_workers_through_a_long_outage(
    home: Path, private_pg: chaos.PrivatePostgres, workers: list[CLI]
) -> None:
    url = private_pg.url
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    log, release = home / "runs.log", home / "release"
    jobs = [WaitForFile.perform_later(log, f"job{n}", release) for n in range(2)]
    flags = ("--threads", "1", "--prefetch", "0", "--recover-after", str(RECOVER_AFTER))
    workers += [CLI(home, url, *flags), CLI(home, url, *flags)]
    wait_for(lambda: len(lines(log)) == 2, timeout=20)  # one job running in each worker
    assert len({line.split()[1] for line in lines(log)}) == 2

    private_pg.down()
    time.sleep(RECOVER_AFTER + 1.5)  # sleep-ok: the outage itself is what is tested
    private_pg.start()
    back = time.time()

    def beaten_since(moment: float) -> bool:
        try:
            seen = storage.workers()
        except Exception:  # the pool reconnects on a later call
            return False
        return len(seen) == 2 and all(w["heartbeat_at"].timestamp() > moment for w in seen)

    # Past the first ticks after the outage, and past a whole --recover-after of
    # beats after it: any wrong recovery would have happened by now.
    wait_for(lambda: beaten_since(back + RECOVER_AFTER + 1.0), timeout=30)
    states = [storage.get(job.job_id) for job in jobs]
    assert [info.state if info else None for info in states] == [JobState.RUNNING] * 2, (
        workers[0].text() + workers[1].text()
    )
    assert len(lines(log)) == 2, lines(log)  # neither started again elsewhere

    release.touch()
    wait_for(lambda: all(job_state(storage, j.job_id) is JobState.SUCCEEDED for j in jobs), 20)
    assert sorted(line.split()[0] for line in lines(log)) == [
        "job0", "job0:started", "job1", "job1:started",
    ]  # fmt: skip
    for info in (storage.get(job.job_id) for job in jobs):
        assert info is not None and (info.attempts, info.crashes) == (1, 0)
    for cli in workers:
        cli.stop()
    storage.close()
