"""The storage contract (``activejob.testing.contract``) against every SQL storage."""

from __future__ import annotations

import sqlite3

import pytest

from activejob.storage.base import Storage
from activejob.testing.contract import StorageContract
from tests.backends.conftest import mysql_corrupt


class TestSQLiteContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.sqlite import SQLiteStorage

        return SQLiteStorage(request.getfixturevalue("sqlite_path"))

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        # Bytes as TEXT, unchecked, as the sqlite3 shell's .import of a Latin-1 file does.
        target = "CAST(? AS TEXT)" if isinstance(value, bytes) else "?"
        with sqlite3.connect(storage.path) as conn:  # type: ignore[attr-defined]
            try:
                conn.execute(
                    f"UPDATE activejob_jobs SET {column} = {target} WHERE job_id = ?",
                    (value, job_id),
                )
            except sqlite3.IntegrityError:
                return False
        return True


@pytest.mark.postgresql
class TestPostgreSQLContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.postgresql import PostgreSQLStorage

        self.url = request.getfixturevalue("pg_url")
        return PostgreSQLStorage.from_url(self.url)

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        import psycopg
        from psycopg import sql

        # Bytes as text: PostgreSQL checks the encoding (and refuses invalid UTF-8).
        target = "convert_from(%s, 'UTF8')" if isinstance(value, bytes) else "%s"
        query = sql.SQL("UPDATE activejob_jobs SET {} = " + target + " WHERE job_id = %s").format(
            sql.Identifier(column)
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:
                conn.execute(query, (value, job_id))
            except (psycopg.DataError, psycopg.IntegrityError):
                return False
        return True


@pytest.mark.mysql
class TestMySQLContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.mysql import MySQLStorage

        self.url = request.getfixturevalue("mysql_url")
        return MySQLStorage.from_url(self.url)

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        return mysql_corrupt(self.url, job_id, column, value)
