"""A backend for the CLI's acceptance tests, on each real server: a SQLite file, a
PostgreSQL and a MariaDB/MySQL database of this test session (emptied per test), a
Redis key prefix of this test (deleted after it).

Use it in a test module with ``from tests.acceptance.cli_backends import backend``;
the test then takes ``backend: Backend`` and runs once per server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from activejob.storage.base import Storage
from tests.services import service_url

__all__ = ["Backend", "backend", "mysql_cli_database", "pg_cli_database"]


@dataclass
class Backend:
    """The URL the CLI is given, and a storage on the same jobs for the test."""

    name: str
    url: str
    storage: Storage


@pytest.fixture(scope="session")
def pg_cli_database() -> Iterator[str]:
    """A migrated PostgreSQL database for this session's CLI tests, dropped at the end."""
    import psycopg
    from psycopg import sql

    from activejob.storage.sql.postgresql import PostgreSQLStorage
    from tests.backends.conftest import with_database

    server = service_url("postgresql")
    name = f"activejob_cli_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    storage = PostgreSQLStorage.from_url(url)
    storage.migrate()
    storage.close()
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(drop)


@pytest.fixture(scope="session")
def mysql_cli_database() -> Iterator[str]:
    """A migrated MariaDB/MySQL database for this session's CLI tests, dropped at the end."""
    from tests.backends.conftest import mysql_private_database

    with mysql_private_database(service_url("mysql"), f"activejob_cli_{os.getpid()}") as url:
        yield url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """One empty backend per test, on each server in turn."""
    if request.param == "sqlite":
        from activejob.storage.sql.sqlite import SQLiteStorage

        path = tmp_path / "jobs.sqlite3"
        storage: Storage = SQLiteStorage(path)
        storage.migrate()
        yield Backend("sqlite", f"sqlite:///{path}", storage)
        storage.close()
    elif request.param == "postgresql":
        import psycopg

        from activejob.storage.sql.postgresql import PostgreSQLStorage
        from tests.backends.conftest import PG_TABLES

        url = request.getfixturevalue("pg_cli_database")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {PG_TABLES} RESTART IDENTITY")
        storage = PostgreSQLStorage.from_url(url)
        yield Backend("postgresql", url, storage)
        storage.close()
    elif request.param == "mysql":
        from activejob.storage.sql.mysql import MySQLStorage
        from tests.backends.conftest import mysql_truncate

        url = request.getfixturevalue("mysql_cli_database")
        mysql_truncate(url)
        storage = MySQLStorage.from_url(url)
        yield Backend("mysql", url, storage)
        storage.close()
    else:
        from activejob.storage.redis import RedisStorage
        from tests.backends.redis_support import delete_prefix, unique_prefix, with_params

        server = service_url("redis")
        prefix = unique_prefix()
        url = with_params(server, prefix=prefix)
        storage = RedisStorage(url)
        storage.migrate()
        try:
            yield Backend("redis", url, storage)
        finally:
            storage.close()
            delete_prefix(server, prefix)
