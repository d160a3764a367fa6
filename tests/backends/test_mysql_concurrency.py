"""MariaDB/MySQL concurrency limits beyond the contract: how a freed slot is handed on
(storage/sql/mysql/concurrency.py): the walk along a key's line reads the same rows
however long the line, a job under several limits met mid-line goes on in order, and a
job that leaves its line during the walk takes no slot and leaves its slot to the next."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from activejob import _time
from activejob.storage.base import ClaimedJob, JobState, NewJob, Result
from activejob.testing.contract import new_job
from activejob.testing.contract.concurrency import limited
from tests.backends.conftest import mysql_admin

pytestmark = pytest.mark.mysql

MySQLdb = pytest.importorskip("MySQLdb")

from activejob.storage.sql.mysql import MySQLStorage  # noqa: E402


@pytest.fixture
def storage(mysql_url: str) -> Iterator[MySQLStorage]:
    built = MySQLStorage.from_url(mysql_url)
    yield built
    built.close()


def connect(url: str) -> Any:
    """A mysqlclient connection of the test's own (autocommit) to ``url``'s database."""
    conn = mysql_admin(url)
    conn.select_db(urlsplit(url).path[1:])
    return conn


def push(storage: MySQLStorage, *jobs: NewJob) -> None:
    for job in jobs:  # one at a time: ids in this order
        storage.push([job])


def claim(storage: MySQLStorage, *jobs: NewJob) -> list[ClaimedJob]:
    """Claim what is ready; returns the claims of ``jobs``, in their order."""
    claimed = {c.job_id: c for c in storage.claim("w1", ["*"], 100)}
    return [claimed[job.job_id] for job in jobs]


def complete(storage: MySQLStorage, claims: list[ClaimedJob]) -> None:
    """One batch of results, as a worker records them."""
    storage.complete([Result(c.id, JobState.SUCCEEDED, attempts=c.attempts) for c in claims])


def state(storage: MySQLStorage, job: NewJob) -> JobState:
    info = storage.get(job.job_id)
    assert info is not None
    return info.state


def slots(url: str) -> set[tuple[str, str]]:
    """(key, job_id) of every slot row."""
    conn = connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT s.concurrency_key, j.job_id FROM activejob_concurrency_slots AS s "
            "JOIN activejob_jobs AS j ON j.id = s.job_ref"
        )
        return {(str(key), str(job_id)) for key, job_id in cursor.fetchall()}
    finally:
        conn.close()


def handler_reads(conn: Any) -> int:
    """The rows and index entries this session's statements have read so far."""
    cursor = conn.cursor()
    cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
    return sum(int(value) for _, value in cursor.fetchall())


def test_the_walk_reads_as_many_rows_for_a_long_line_as_for_a_short_one(
    storage: MySQLStorage,
) -> None:
    """Handing a freed slot on costs the same behind 3 blocked jobs as behind 300: the
    walk seeks the key's next job, it does not read the key's line."""
    short = [limited("short", limit=2) for _ in range(5)]
    long_ = [limited("long", limit=2) for _ in range(302)]
    storage.push([*short, *long_])
    reads = {}
    with storage._transaction() as conn:
        conn.cursor().execute("DELETE FROM activejob_concurrency_slots")  # as if freed
        for key in ("short", "long"):
            params = {"keys": json.dumps([key]), "now": _time.now(), "limit": 4}
            before = handler_reads(conn)
            rows = storage._run(conn, "free_slot_line", params).fetchall()
            reads[key] = handler_reads(conn) - before
            # Two free slots: the first two jobs take them, the third is where it stops.
            assert [(kind, k) for kind, k, *_ in rows] == [("take", key), ("take", key)]
        conn.rollback()
    assert reads["long"] == reads["short"], reads


def test_the_walk_seeks_on_the_blocked_jobs_index_alone(storage: MySQLStorage) -> None:
    """Each step of the walk is answered by activejob_jobs_blocked without reading a
    job's row (the index holds run_at): jobs not yet due are stepped over in the index."""
    storage.push([limited("k") for _ in range(3)])
    params = {"keys": json.dumps(["k"]), "now": _time.now(), "limit": 4}
    with storage._connection() as conn:
        cursor = conn.cursor()
        cursor.execute("EXPLAIN FORMAT=JSON " + storage.sql.queries["free_slot_line"], params)
        plan = json.loads(cursor.fetchone()[0])
    seeks = [t for t in tables(plan) if t.get("table_name") == "n"]
    assert len(seeks) == 2  # the first job of each key, the job after the last one
    for seek in seeks:
        assert (seek.get("key"), seek.get("using_index")) == ("activejob_jobs_blocked", True)


def tables(node: Any) -> Iterator[dict[str, Any]]:
    """Every table access of an EXPLAIN FORMAT=JSON plan."""
    if isinstance(node, dict):
        if isinstance(node.get("table"), dict):
            yield node["table"]
        for value in node.values():
            yield from tables(value)
    elif isinstance(node, list):
        for value in node:
            yield from tables(value)


def test_a_job_under_two_limits_met_mid_line_goes_on_in_order(
    storage: MySQLStorage, mysql_url: str
) -> None:
    holders = [limited("k", limit=3) for _ in range(3)]
    first, both, last = limited("k", limit=3), limited("k", "l", limit=3), limited("k", limit=3)
    push(storage, *holders, first, both, last)
    assert {state(storage, job) for job in (first, both, last)} == {JobState.BLOCKED}
    complete(storage, claim(storage, *holders))  # three slots of k free at once
    assert [state(storage, job) for job in (first, both, last)] == [JobState.READY] * 3
    assert slots(mysql_url) == {
        ("k", first.job_id),
        ("k", both.job_id),
        ("l", both.job_id),
        ("k", last.job_id),
    }


def test_a_job_that_leaves_its_line_during_the_walk_takes_no_slot_and_the_next_does(
    storage: MySQLStorage, mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk does not lock the jobs it reads: one discarded by an operator between
    the walk and the readying is left discarded, holds no slot, and is not reported
    unblocked; the slot it would have taken goes to the next job of the key at once."""
    holders = [limited("k", limit=2) for _ in range(2)]
    gone, second, third = (limited("k", limit=2) for _ in range(3))
    push(storage, *holders, gone, second, third)
    claims = claim(storage, *holders)
    run = storage._run

    def discard_after_the_walk(conn: Any, name: str, params: dict[str, Any] | None = None) -> Any:
        cursor = run(conn, name, params)
        if name == "free_slot_line":
            rows = cursor.fetchall()
            assert [row[3] for row in rows] == [gone.job_id, second.job_id]
            other = connect(mysql_url)
            try:
                other.cursor().execute(
                    "UPDATE activejob_jobs SET state = 'discarded', finished_at = %s "
                    "WHERE job_id = %s",
                    (_time.now(), gone.job_id),
                )
            finally:
                other.close()
            return iter(rows)
        return cursor

    monkeypatch.setattr(storage, "_run", discard_after_the_walk)
    unblocked: list[str] = []
    monkeypatch.setattr(storage, "announce_unblocked", unblocked.extend)
    complete(storage, claims)
    assert state(storage, gone) is JobState.DISCARDED
    assert [state(storage, job) for job in (second, third)] == [JobState.READY] * 2
    assert slots(mysql_url) == {("k", second.job_id), ("k", third.job_id)}
    assert sorted(unblocked) == sorted([second.job_id, third.job_id])


def test_unlimited_jobs_beside_limited_ones_are_untouched(
    storage: MySQLStorage, mysql_url: str
) -> None:
    holder, waiter, plain = limited("k"), limited("k"), new_job()
    push(storage, holder, waiter, plain)
    complete(storage, claim(storage, holder, plain))
    assert state(storage, waiter) is JobState.READY
    assert slots(mysql_url) == {("k", waiter.job_id)}
