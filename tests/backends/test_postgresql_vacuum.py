"""PostgreSQL keeps its claim path short: once claims have left ``vacuum_dead_rows``
dead row versions in the jobs table, the storage VACUUMs it in the background
(``storage/sql/postgresql/vacuum.py``); ``vacuum_dead_rows=0`` leaves it to
autovacuum, and a role that may not vacuum the table never tries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from activejob.errors import ConfigurationError
from activejob.storage.base import JobState, Result
from activejob.testing.contract import new_job
from tests.support import wait_for

pytestmark = pytest.mark.postgresql

psycopg = pytest.importorskip("psycopg")

from activejob.storage.sql.postgresql import PostgreSQLStorage  # noqa: E402


@pytest.fixture
def storages() -> Iterator[Callable[[str], PostgreSQLStorage]]:
    built: list[PostgreSQLStorage] = []

    def build(url: str) -> PostgreSQLStorage:
        storage = PostgreSQLStorage.from_url(url)
        built.append(storage)
        return storage

    yield build
    for storage in built:
        storage.close()


def run_jobs(storage: PostgreSQLStorage, count: int) -> int:
    """Enqueue, claim and finish ``count`` jobs (two dead row versions each)."""
    storage.push([new_job(queue="vacuum") for _ in range(count)])
    claimed = storage.claim("vacuum-test", ["vacuum"], count)
    storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claimed])
    return len(claimed)


def vacuum_count(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'activejob_jobs'"
        ).fetchone()
    return int(row[0])


def test_claims_vacuum_the_jobs_table_once_dead_rows_pile_up(
    pg_url: str, storages: Callable[[str], PostgreSQLStorage]
) -> None:
    storage = storages(pg_url + "?vacuum_dead_rows=1")
    storage.vacuum.check_every = 10
    before = vacuum_count(pg_url)

    # The statistics reach the look a moment after the claims: claim on until then.
    wait_for(lambda: run_jobs(storage, 10) and storage.vacuum.vacuums >= 1, timeout=30)

    wait_for(lambda: vacuum_count(pg_url) > before, timeout=10)


def test_vacuum_dead_rows_0_leaves_the_table_to_autovacuum(
    pg_url: str, storages: Callable[[str], PostgreSQLStorage]
) -> None:
    storage = storages(pg_url + "?vacuum_dead_rows=0")
    storage.vacuum.check_every = 1

    assert run_jobs(storage, 20) == 20

    assert storage.vacuum.vacuums == 0
    assert storage.vacuum._thread is None  # not even a look at the statistics


@pytest.fixture
def non_owner_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` as a role that may use the jobs tables but owns none of them."""
    role = f"activejob_novacuum_{os.getpid()}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        admin.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        admin.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    parts = urlsplit(pg_url)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role]
        )
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")


def test_a_role_that_may_not_vacuum_never_tries(
    non_owner_url: str, storages: Callable[[str], PostgreSQLStorage]
) -> None:
    storage = storages(non_owner_url + "?vacuum_dead_rows=1")
    storage.vacuum.check_every = 1

    assert run_jobs(storage, 5) == 5

    wait_for(lambda: storage.vacuum.dead_rows == 0, timeout=10)  # its look said: not allowed
    assert storage.vacuum.vacuums == 0


@pytest.mark.parametrize("value", ["-1", "many"])
def test_vacuum_dead_rows_is_a_count(pg_url: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match="vacuum_dead_rows"):
        PostgreSQLStorage.from_url(f"{pg_url}?vacuum_dead_rows={value}")


def test_the_claim_index_loses_its_dead_entries(
    pg_url: str, storages: Callable[[str], PostgreSQLStorage]
) -> None:
    """What the vacuum is for: the dead entries the claims left at the start of the
    claim index are gone, so the next claim reads one index page, not a page per
    ~150 claimed jobs."""
    storage = storages(pg_url + "?vacuum_dead_rows=0")
    assert run_jobs(storage, 3000) == 3000
    storage.push([new_job(queue="vacuum")])

    def claim_buffers() -> Any:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            plan = conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id FROM activejob_jobs"
                " WHERE state IN ('ready', 'scheduled') AND queue_name = 'vacuum'"
                " ORDER BY priority, run_at, id LIMIT 1"
            ).fetchone()[0][0]["Plan"]
        return plan["Shared Hit Blocks"] + plan.get("Shared Read Blocks", 0)

    before = claim_buffers()
    storage.vacuum.dead_rows, storage.vacuum.check_every = 1, 1
    wait_for(lambda: run_jobs(storage, 1) and storage.vacuum.vacuums >= 1, timeout=30)

    assert before >= 10
    assert claim_buffers() <= 4
