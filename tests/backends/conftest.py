"""Fixtures for the SQL storages: a SQLite file per test, and one PostgreSQL and one
MariaDB/MySQL database per test session (``activejob_test_<pid>``, migrated once,
emptied before each test, dropped at the end) so other suites on the same server
are never touched."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from tests.services import service_url

PG_TABLES = (
    "activejob_jobs, activejob_paused_queues, activejob_workers, "
    "activejob_recurring_tasks, activejob_recurring_executions, "
    "activejob_rate_windows"  # flow: rate limits
)
PG_TABLES += ", activejob_concurrency_slots"  # flow: concurrency
MYSQL_TABLES = (
    "activejob_jobs",
    "activejob_paused_queues",
    "activejob_workers",
    "activejob_recurring_tasks",
    "activejob_recurring_executions",
    "activejob_rate_windows",  # flow: rate limits
    "activejob_concurrency_slots",  # flow: concurrency
)


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


@pytest.fixture(scope="session")
def mysql_server() -> str:
    """The MariaDB/MySQL server's URL (skips, or fails under CI, when it is down)."""
    return service_url("mysql")


def mysql_admin(url: str) -> Any:
    """An autocommit mysqlclient connection to ``url``'s server, no database chosen."""
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        autocommit=True,
    )


@contextmanager
def mysql_private_database(server: str, name: str, *, migrate: bool = True) -> Iterator[str]:
    """Database ``name`` on the MariaDB/MySQL ``server`` for the block (created afresh,
    migrated unless told not to, dropped after it); yields its URL."""
    admin = mysql_admin(server)
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.cursor().execute(f"CREATE DATABASE `{name}`")
    finally:
        admin.close()
    url = with_database(server, name)
    if migrate:
        from activejob.storage.sql.mysql import MySQLStorage

        storage = MySQLStorage.from_url(url)
        storage.migrate()
        storage.close()
    try:
        yield url
    finally:
        admin = mysql_admin(server)
        try:
            admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            admin.close()


MYSQL_BAD_VALUE = 1366
"""ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: "Incorrect integer value", "Incorrect string value"."""
MYSQL_NOT_NULL = 1048
"""ER_BAD_NULL_ERROR: "Column ... cannot be null"."""


def mysql_corrupt(url: str, job_id: str, column: str, value: object) -> bool:
    """Write ``value`` raw into ``column`` of stored job ``job_id`` in ``url``'s database
    (bytes as they are); ``False`` when the server refuses it.

    Strict mode (the default of MariaDB >= 10.2.4 and MySQL >= 5.7) refuses a
    wrong-typed, NULL or non-UTF-8 value; a non-strict server coerces it (to 0, '' or
    '?') instead, so no wrong-typed value is stored either way.
    """
    import MySQLdb

    conn = mysql_admin(url)
    try:
        conn.select_db(urlsplit(url).path[1:])
        conn.cursor().execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
        conn.cursor().execute(
            f"UPDATE activejob_jobs SET `{column}` = %s WHERE job_id = %s", (value, job_id)
        )
    except (MySQLdb.DataError, MySQLdb.IntegrityError, MySQLdb.OperationalError) as exc:
        if exc.args[0] not in (MYSQL_BAD_VALUE, MYSQL_NOT_NULL):
            raise
        return False
    finally:
        conn.close()
    return True


def mysql_truncate(url: str) -> None:
    """Empty the activejob tables of ``url``'s database."""
    admin = mysql_admin(url)
    try:
        admin.select_db(urlsplit(url).path[1:])
        for table in MYSQL_TABLES:
            admin.cursor().execute(f"TRUNCATE TABLE {table}")
    finally:
        admin.close()


@pytest.fixture(scope="session")
def mysql_database(mysql_server: str) -> Iterator[str]:
    """A private, migrated database for this test session."""
    with mysql_private_database(mysql_server, f"activejob_test_{os.getpid()}") as url:
        yield url


@pytest.fixture
def mysql_url(mysql_database: str) -> str:
    """The session database, emptied for this test."""
    mysql_truncate(mysql_database)
    return mysql_database


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A fresh SQLite file path for this test."""
    return tmp_path / "jobs.sqlite3"
