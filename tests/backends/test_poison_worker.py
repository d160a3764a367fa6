"""Poison rows against a real worker, on every durable backend: a row written straight
into the store (a payload nested deeper than the recursion limit, a class no worker
knows, a priority that is not a number) fails that one job with a
``DeserializationError`` and an ERROR line saying why and what to do; the good job
claimed in the same batch runs, and the worker goes on."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import activejob
from activejob.adapters.durable import storage_of
from activejob.storage.base import JobFilter, JobState, Storage
from tests.backends import redis_support
from tests.backends.conftest import mysql_corrupt
from tests.worker import jobs
from tests.worker.conftest import run_burst
from tests.worker.jobs import Note, labels

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url

DEEP = "[" * 100_000
Corrupt = Callable[[str, str, object], bool]


@pytest.fixture(autouse=True)
def clean_runs() -> Iterator[None]:
    jobs.RUNS.clear()
    yield
    jobs.RUNS.clear()


def _sqlite(request: pytest.FixtureRequest) -> tuple[str, Corrupt]:
    path: Path = request.getfixturevalue("sqlite_path")

    def corrupt(job_id: str, column: str, value: object) -> bool:
        target = "CAST(? AS TEXT)" if isinstance(value, bytes) else "?"
        with sqlite3.connect(path) as conn:
            try:
                conn.execute(
                    f"UPDATE activejob_jobs SET {column} = {target} WHERE job_id = ?",
                    (value, job_id),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    return f"sqlite:///{path}", corrupt


def _postgresql(request: pytest.FixtureRequest) -> tuple[str, Corrupt]:
    import psycopg
    from psycopg import sql

    url: str = request.getfixturevalue("pg_url")

    def corrupt(job_id: str, column: str, value: object) -> bool:
        target = "convert_from(%s, 'UTF8')" if isinstance(value, bytes) else "%s"
        query = sql.SQL("UPDATE activejob_jobs SET {} = " + target + " WHERE job_id = %s")
        with psycopg.connect(url, autocommit=True) as conn:
            try:
                conn.execute(query.format(sql.Identifier(column)), (value, job_id))
            except psycopg.DataError:
                return False
        return True

    return url, corrupt


def _mysql(request: pytest.FixtureRequest) -> tuple[str, Corrupt]:
    url: str = request.getfixturevalue("mysql_url")
    return url, lambda job_id, column, value: mysql_corrupt(url, job_id, column, value)


def _redis(request: pytest.FixtureRequest) -> tuple[str, Corrupt]:
    from activejob.storage.redis import RedisStorage, records

    url: str = request.getfixturevalue("redis_url")

    def corrupt(job_id: str, column: str, value: object) -> bool:
        storage = RedisStorage(url)
        try:
            info = storage.get(job_id)
            assert info is not None
            text = value if isinstance(value, bytes) else str(value)
            storage.client.hset(storage.key("job", records.sid(info.id)), column, text)
        finally:
            storage.close()
        return True

    return url, corrupt


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def backend(request: pytest.FixtureRequest) -> tuple[str, Storage, Corrupt]:
    """``(url, storage, corrupt)`` for each durable backend, configured as the default."""
    make = {"sqlite": _sqlite, "postgresql": _postgresql, "mysql": _mysql, "redis": _redis}
    url, corrupt = make[request.param](request)
    activejob.configure(adapter=url)
    storage: Storage = storage_of(url)
    storage.migrate()
    return url, storage, corrupt


def _failure(storage: Storage, job_id: str, error: str = "DeserializationError") -> str:
    info = storage.get(job_id)
    assert info is not None and info.state is JobState.FAILED, info
    assert info.error is not None
    assert info.error.exception_class == f"activejob.errors.{error}"
    return info.error.message


def _error_lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and r.name == "activejob.worker" and job_id in r.getMessage()
    ]


def test_a_payload_nested_too_deeply_fails_alone_and_the_worker_goes_on(
    backend: tuple[str, Storage, Corrupt], caplog: pytest.LogCaptureFixture
) -> None:
    url, storage, corrupt = backend
    Note.perform_later("before")
    bad = Note.perform_later("bad")
    Note.perform_later("after")
    assert corrupt(bad.job_id, "payload", DEEP)
    waiting = activejob.status(bad.job_id)
    assert waiting is not None and waiting.state is JobState.READY
    assert "nested too deeply" in waiting.payload["reason"]

    run_burst(url)

    assert sorted(labels()) == ["after", "before"]
    assert "nested too deeply" in _failure(storage, bad.job_id)
    [line] = _error_lines(caplog, bad.job_id)
    assert "(class tests.worker.jobs.Note)" in line and "nested too deeply" in line
    assert f"activejob jobs show {bad.job_id}" in line
    # The operator can list, show and discard it.
    assert {i.job_id for i in storage.list(JobFilter(states=[JobState.FAILED]))} == {bad.job_id}
    assert storage.discard(JobFilter(job_ids=[bad.job_id])) == 1


def test_an_unknown_or_main_class_is_an_error_line_with_the_fix(
    backend: tuple[str, Storage, Corrupt], caplog: pytest.LogCaptureFixture
) -> None:
    url, storage, corrupt = backend
    Note.perform_later("good")
    unknown, main = Note.perform_later("unknown"), Note.perform_later("main")
    for job, name in ((unknown, "billing.jobs.Invoice"), (main, "__main__.Script")):
        payload = job.serialize()
        payload["job_class"] = name
        assert corrupt(job.job_id, "payload", json.dumps(payload))

    run_burst(url)

    assert labels() == ["good"]
    [line] = _error_lines(caplog, unknown.job_id)
    assert "billing.jobs.Invoice" in line and "--import billing.jobs" in line
    assert "--import billing.jobs" in _failure(storage, unknown.job_id, "UnknownJobClassError")
    [line] = _error_lines(caplog, main.job_id)
    assert "__main__.Script" in line and "define the job in an importable module" in line


def test_a_priority_that_is_not_a_number_fails_only_that_job(
    backend: tuple[str, Storage, Corrupt], caplog: pytest.LogCaptureFixture
) -> None:
    url, storage, corrupt = backend
    Note.perform_later("good")
    bad = Note.perform_later("bad")
    refused = not corrupt(bad.job_id, "priority", "high")

    run_burst(url)

    if refused:  # a typed or checked column: the row never went bad
        assert sorted(labels()) == ["bad", "good"]
        return
    assert labels() == ["good"]
    assert "priority 'high' is not an integer" in _failure(storage, bad.job_id)
    [line] = _error_lines(caplog, bad.job_id)
    assert "priority 'high' is not an integer" in line


def test_a_huge_class_name_is_quoted_short(
    backend: tuple[str, Storage, Corrupt], caplog: pytest.LogCaptureFixture
) -> None:
    url, storage, corrupt = backend
    job = Note.perform_later("huge")
    payload = job.serialize()
    payload["job_class"] = "x" * 1_000_000
    assert corrupt(job.job_id, "payload", json.dumps(payload))

    run_burst(url)

    message = _failure(storage, job.job_id, "UnknownJobClassError")
    assert len(message) < 1000 and "(1,000,002 characters)" in message
    info = storage.get(job.job_id)
    assert info is not None and info.error is not None and len(info.error.traceback) < 5000
    [line] = _error_lines(caplog, job.job_id)
    assert len(line) < 2000


def test_a_payload_that_is_not_utf8_fails_alone(
    backend: tuple[str, Storage, Corrupt], caplog: pytest.LogCaptureFixture
) -> None:
    url, storage, corrupt = backend
    Note.perform_later("good")
    bad = Note.perform_later("bad")
    payload = json.dumps(bad.serialize()).encode().replace(b'"bad"', b'"b\xff"')
    if not corrupt(bad.job_id, "payload", payload):
        return  # PostgreSQL and MariaDB/MySQL refuse text that is not UTF-8

    run_burst(url)

    assert labels() == ["good"]
    assert "payload" in _failure(storage, bad.job_id) and "UTF-8" in _failure(storage, bad.job_id)
    [line] = _error_lines(caplog, bad.job_id)
    assert "is not valid UTF-8" in line
