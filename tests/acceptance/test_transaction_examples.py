"""The in-transaction examples in docs/sqlite.md, docs/postgresql.md and docs/mysql.md
are the files in examples/transactions/, and they run as written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import service_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "transactions"


def run_example(name: str, *args: str, cwd: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("doc", "example"),
    [
        ("sqlite.md", "sqlite_orders.py"),
        ("postgresql.md", "postgresql_orders.py"),
        ("mysql.md", "mysql_orders.py"),
    ],
)
def test_the_docs_show_the_example_files(doc: str, example: str) -> None:
    text = (ROOT / "docs" / doc).read_text()
    shown = f"# examples/transactions/{example}\n{(EXAMPLES / example).read_text()}"
    assert shown in text, f"docs/{doc} is out of date for examples/transactions/{example}"


def test_the_sqlite_example_keeps_the_committed_job_only(tmp_path: Path) -> None:
    # A fresh file: the schema is created inside the caller's first transaction.
    assert run_example("sqlite_orders.py", "shop.sqlite3", cwd=tmp_path) == [
        "order 1 job: ready",
        "order 2 job: None",
    ]


@pytest.fixture
def fresh_database() -> Iterator[str]:
    import psycopg

    server = service_url("postgresql")
    name = f"activejob_examples_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgresql
def test_the_postgresql_example_keeps_the_committed_job_only(
    tmp_path: Path, fresh_database: str
) -> None:
    from activejob.storage.sql.postgresql import PostgreSQLStorage

    storage = PostgreSQLStorage.from_url(fresh_database)
    storage.migrate()
    storage.close()
    assert run_example("postgresql_orders.py", fresh_database, cwd=tmp_path) == [
        "order 1 job: ready",
        "order 2 job: None",
    ]


@pytest.mark.postgresql
def test_auto_migrate_inside_a_transaction_follows_the_transaction(fresh_database: str) -> None:
    import psycopg

    from activejob.storage.sql.postgresql import PostgreSQLStorage
    from activejob.testing.contract import new_job

    storage = PostgreSQLStorage.from_url(fresh_database + "?auto_migrate=true")
    exists = "SELECT to_regclass('activejob_jobs') IS NOT NULL"
    with psycopg.connect(fresh_database) as conn:
        storage.push([new_job()], connection=conn)
        conn.rollback()
        assert conn.execute(exists).fetchone() == (False,)
        job = new_job()
        storage.push([job], connection=conn)
        conn.commit()
        assert conn.execute(exists).fetchone() == (True,)
    assert storage.get(job.job_id) is not None
    storage.close()


@pytest.mark.mysql
def test_the_mysql_example_keeps_the_committed_job_only(tmp_path: Path) -> None:
    pytest.importorskip("MySQLdb")
    from tests.backends.conftest import mysql_private_database

    name = f"activejob_examples_{os.getpid()}"
    with mysql_private_database(service_url("mysql"), name) as url:
        assert run_example("mysql_orders.py", url, cwd=tmp_path) == [
            "order 1 job: ready",
            "order 2 job: None",
        ]
