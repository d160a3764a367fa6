"""Fixtures of the flow-control tests: one URL per durable backend, on the real
servers (a private database or key prefix per test; skips, or fails under CI,
when a server is down)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import redis_support
from tests.backends.conftest import (
    mysql_database,
    mysql_server,
    mysql_url,
    pg_database,
    pg_server,
    pg_url,
)

__all__ = [
    "mysql_database",
    "mysql_server",
    "mysql_url",
    "pg_database",
    "pg_server",
    "pg_url",
]

prefix = redis_support.prefix
redis_server_url = redis_support.redis_server_url
redis_url = redis_support.redis_url

BACKENDS = ("sqlite", "postgresql", "mysql", "redis")


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated store of each durable backend, as an adapter URL."""
    from activejob.adapters.cache import reset_adapters

    name = request.param
    if name == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    elif name == "postgresql":
        url = request.getfixturevalue("pg_url")
    elif name == "mysql":
        url = request.getfixturevalue("mysql_url")
    else:
        url = request.getfixturevalue("redis_url")
    yield url
    reset_adapters(wait=True)
