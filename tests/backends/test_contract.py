"""The storage contract (``activejob.testing.contract``) against every SQL storage."""

from __future__ import annotations

import pytest

from activejob.storage.base import Storage
from activejob.testing.contract import StorageContract


class TestSQLiteContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.sqlite import SQLiteStorage

        return SQLiteStorage(request.getfixturevalue("sqlite_path"))


@pytest.mark.postgresql
class TestPostgreSQLContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.postgresql import PostgreSQLStorage

        return PostgreSQLStorage.from_url(request.getfixturevalue("pg_url"))


@pytest.mark.mysql
class TestMySQLContract(StorageContract):
    def make_storage(self, request: pytest.FixtureRequest) -> Storage:
        from activejob.storage.sql.mysql import MySQLStorage

        return MySQLStorage.from_url(request.getfixturevalue("mysql_url"))
