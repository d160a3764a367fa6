"""Fixtures for the SQL storages: a SQLite file per test, and one PostgreSQL database
per test session (``activejob_test_<pid>``, migrated once, emptied before each
test, dropped at the end) so other suites on the same server are never touched."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.services import service_url

PG_TABLES = "activejob_jobs, activejob_paused_queues, activejob_workers"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server's URL (skips, or fails under CI, when it is down)."""
    return service_url("postgresql")


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """A private, migrated database for this test session."""
    import psycopg
    from psycopg import sql

    from activejob.storage.sql.postgresql import PostgreSQLStorage

    name = f"activejob_test_{os.getpid()}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(pg_server, name)
    storage = PostgreSQLStorage.from_url(url)
    storage.migrate()
    storage.close()
    try:
        yield url
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The session database, emptied for this test."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {PG_TABLES} RESTART IDENTITY")
    return pg_database


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A fresh SQLite file path for this test."""
    return tmp_path / "jobs.sqlite3"
