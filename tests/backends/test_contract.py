"""The storage contract (``activejob.testing.contract``) against every SQL storage."""

from __future__ import annotations

import sqlite3

import pytest

from activejob.storage.base import Storage
from activejob.testing.contract import StorageContract


class TestSQLiteContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.sqlite import SQLiteStorage

        return SQLiteStorage(request.getfixturevalue("sqlite_path"))

    def corrupt(self, storage: Storage, job_id: str, column: str, value: object) -> bool:
        with sqlite3.connect(storage.path) as conn:  # type: ignore[attr-defined]
            try:
                conn.execute(
                    f"UPDATE activejob_jobs SET {column} = ? WHERE job_id = ?", (value, job_id)
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

        query = sql.SQL("UPDATE activejob_jobs SET {} = %s WHERE job_id = %s").format(
            sql.Identifier(column)
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:
                conn.execute(query, (value, job_id))
            except (psycopg.DataError, psycopg.IntegrityError):
                return False
        return True
