"""Fuzz the stores with rows written raw (as the contract's hostile rows are, see
``activejob.testing.contract.hostile``) in SQLite, PostgreSQL, MariaDB and Redis:
any text or bytes as the payload, any value as the priority or the attempts (as far
as the store and its driver accept it). A real worker then drains the queue: it
stays alive, the good job beside the bad one succeeds, and the bad one ends as a
finished job (failed, or succeeded when the value was harmless), never stuck,
and listing or showing it never raises."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import activejob
from activejob.adapters.cache import reset_adapters
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobFilter, JobState, Storage
from tests.backends import redis_support
from tests.backends import test_contract as sql_contract
from tests.backends import test_contract_redis as redis_contract
from tests.worker.conftest import FAST, start_worker
from tests.worker.jobs import Note

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url

Corrupt = Callable[[Storage, str, str, object], bool]

json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
).map(json.dumps)
raw_values = st.one_of(
    json_text,
    st.text(max_size=40),
    st.binary(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.none(),
)
hostile = st.tuples(st.sampled_from(["payload", "priority", "attempts"]), raw_values)


def valid_payload_edits() -> st.SearchStrategy[str]:
    """A real payload with one field changed: closer to what an old version writes."""
    good = Note("x").serialize()
    return st.tuples(st.sampled_from(sorted(good)), st.text(max_size=6) | st.integers()).map(
        lambda edit: json.dumps({**good, edit[0]: edit[1]})
    )


rows = hostile | st.tuples(st.just("payload"), valid_payload_edits())


def drain_one_bad_row(url: str, corrupt: Corrupt, column: str, value: object) -> None:
    queue = f"fuzz-{uuid.uuid4().hex[:8]}"
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    good = Note.set(queue=queue).perform_later("good")
    bad = Note.set(queue=queue).perform_later("bad")
    if not corrupt(storage, bad.job_id, column, value):
        return  # the store refused the value: nothing hostile is stored
    listed = storage.list(JobFilter(queue_name=queue, limit=None))
    assert len(listed) == 2

    worker = start_worker(url, dataclasses.replace(FAST, queues=(queue,)), burst=True)
    worker.join(30)  # raises what killed the worker, or fails if it hangs

    states = {info.job_id: info.state for info in storage.list(JobFilter(queue_name=queue))}
    assert states[good.job_id] is JobState.SUCCEEDED, states
    assert states[bad.job_id] in (JobState.SUCCEEDED, JobState.FAILED), states
    shown = storage.get(bad.job_id)
    assert shown is not None and shown.state.finished
    if shown.state is JobState.FAILED:
        assert shown.error is not None


FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(row=rows)
def test_sqlite_rows(tmp_path: Path, row: tuple[str, Any]) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    url = f"sqlite:///{path}"
    storage_of(url).migrate()

    def corrupt(storage: Storage, job_id: str, column: str, value: object) -> bool:
        try:
            return sql_contract.TestSQLiteContract.corrupt(None, storage, job_id, column, value)  # type: ignore[arg-type]
        except OverflowError:  # past SQLite's 64-bit integers: the driver refuses it
            return False

    try:
        drain_one_bad_row(url, corrupt, *row)
    finally:
        reset_adapters(wait=True)
        path.unlink(missing_ok=True)


@pytest.mark.postgresql
@FUZZ
@given(row=rows)
def test_postgresql_rows(pg_url: str, row: tuple[str, Any]) -> None:
    import psycopg

    holder = sql_contract.TestPostgreSQLContract()
    holder.url = pg_url

    def corrupt(storage: Storage, job_id: str, column: str, value: object) -> bool:
        try:
            return holder.corrupt(storage, job_id, column, value)
        except psycopg.ProgrammingError:  # bytes for an integer column: refused too
            return False

    try:
        drain_one_bad_row(pg_url, corrupt, *row)
    finally:
        reset_adapters(wait=True)


@pytest.mark.redis
@FUZZ
@given(row=rows)
def test_redis_rows(redis_server_url: str, prefix: str, row: tuple[str, Any]) -> None:
    url = redis_support.with_params(redis_server_url, prefix=prefix)
    storage_of(url).migrate()
    holder = redis_contract.TestRedisContract()
    try:
        drain_one_bad_row(url, holder.corrupt, *row)
    finally:
        reset_adapters(wait=True)


@pytest.mark.mysql
@FUZZ
@given(row=rows)
def test_mysql_rows(mysql_url: str, row: tuple[str, Any]) -> None:
    import MySQLdb

    from tests.backends.conftest import mysql_corrupt

    def corrupt(storage: Storage, job_id: str, column: str, value: object) -> bool:
        try:
            return mysql_corrupt(mysql_url, job_id, column, value)
        except MySQLdb.DataError as exc:
            if exc.args[0] == 1264:  # out of range for the column: refused
                return False
            raise

    try:
        drain_one_bad_row(mysql_url, corrupt, *row)
    finally:
        reset_adapters(wait=True)


# Found by the fuzz above: a job at the column's largest attempts made every claim
# of its queue fail (``attempts + 1`` out of range), so the worker retried forever
# and no job of that queue ran again.
INT_MAX = 2**31 - 1


@pytest.mark.postgresql
def test_the_largest_attempts_do_not_block_postgresql_claims(pg_url: str) -> None:
    holder = sql_contract.TestPostgreSQLContract()
    holder.url = pg_url
    try:
        drain_one_bad_row(pg_url, holder.corrupt, "attempts", INT_MAX)
    finally:
        reset_adapters(wait=True)


@pytest.mark.mysql
def test_the_largest_attempts_do_not_block_mysql_claims(mysql_url: str) -> None:
    from tests.backends.conftest import mysql_corrupt

    def corrupt(storage: Storage, job_id: str, column: str, value: object) -> bool:
        return mysql_corrupt(mysql_url, job_id, column, value)

    try:
        drain_one_bad_row(mysql_url, corrupt, "attempts", INT_MAX)
    finally:
        reset_adapters(wait=True)


def test_the_largest_attempts_do_not_block_sqlite_claims(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    storage_of(url).migrate()

    def corrupt(storage: Storage, job_id: str, column: str, value: object) -> bool:
        return sql_contract.TestSQLiteContract.corrupt(None, storage, job_id, column, value)  # type: ignore[arg-type]

    try:
        drain_one_bad_row(url, corrupt, "attempts", 2**63 - 1)
    finally:
        reset_adapters(wait=True)


@pytest.mark.redis
def test_the_largest_attempts_do_not_block_redis_claims(redis_server_url: str, prefix: str) -> None:
    url = redis_support.with_params(redis_server_url, prefix=prefix)
    storage_of(url).migrate()
    try:
        drain_one_bad_row(url, redis_contract.TestRedisContract().corrupt, "attempts", 2**63 - 1)
    finally:
        reset_adapters(wait=True)
