"""What the operator-facing tests share: a job that is discarded, and backend URLs
that no retry can fix, each with the words its one error line must hold."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import activejob
from activejob import Job
from tests.services import service_url


class Unwanted(Exception):
    """Raised by :class:`Discards`, which discards itself on it."""


@activejob.discard_on(Unwanted)
class Discards(Job):
    """Always raises :class:`Unwanted`, and is discarded (never retried, never failed)."""

    def perform(self) -> None:
        raise Unwanted("not wanted")


class LeavesAProcessBehind(Job):
    """Starts a process that inherits every open file descriptor and outlives the
    job (a daemon a job forks off); writes its pid to ``pid_file``."""

    def perform(self, pid_file: Path) -> None:
        sleeper = subprocess.Popen(["sleep", "60"], close_fds=False)
        pid_file.write_text(str(sleeper.pid))


def free_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _replace(url: str, *, netloc: str | None = None, path: str | None = None) -> str:
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}"
    return urlunsplit(
        parts._replace(
            netloc=netloc.format(host=host) if netloc else parts.netloc, path=path or parts.path
        )
    )


BAD_SETTINGS = [
    "redis-unknown-option",
    "redis-db-out-of-range",
    "redis-wrong-password",
    "sqlite-missing-folder",
    "postgresql-missing-database",
    "postgresql-missing-role",
    "mysql-missing-database",
    "mysql-wrong-password",
    "mysql-no-access-to-database",
    "mysql-unknown-option",
]
"""The settings :func:`bad_url` builds, as test ids."""


def bad_url(case: str, tmp_path: Path) -> tuple[str, str]:
    """A URL the server (or the file system) will never accept, and the words of the
    error line; skips when the server is not running."""
    if case == "sqlite-missing-folder":
        missing = tmp_path / "no-such-folder" / "jobs.sqlite3"
        return f"sqlite:///{missing}", f"the folder {missing.parent} of {missing} does not exist"
    if case.startswith("redis"):
        redis = service_url("redis")
        if case == "redis-unknown-option":
            return f"{redis}?bogus=1", "unknown option 'bogus'"
        if case == "redis-db-out-of-range":
            return _replace(redis, path="/99999"), "DB index is out of range"
        url = _replace(redis, netloc="activejob_nobody:wrong@{host}")
        return url, "invalid username-password pair"
    if case.startswith("mysql"):
        return _bad_mysql_url(case)
    postgresql = service_url("postgresql")
    if case == "postgresql-missing-database":
        url = _replace(postgresql, path="/activejob_no_such_database")
        return url, 'database "activejob_no_such_database" does not exist'
    if case == "postgresql-missing-role":
        url = _replace(postgresql, netloc="activejob_no_such_role@{host}")
        return url, 'role "activejob_no_such_role" does not exist'
    raise pytest.UsageError(f"no bad setting {case!r}")


MYSQL_USER = "activejob_operator_test"
"""An account with a password and no grants, made by :func:`_bad_mysql_url`."""


def _bad_mysql_url(case: str) -> tuple[str, str]:
    mysql = service_url("mysql")
    if case == "mysql-unknown-option":
        return f"{mysql}?bogus=1", "unknown option 'bogus'"
    if case == "mysql-missing-database":
        url = _replace(mysql, path="/activejob_no_such_database")
        return url, "Unknown database 'activejob_no_such_database'"
    from tests.backends.conftest import mysql_admin

    admin = mysql_admin(mysql)
    try:  # the same account and password in every run: concurrent runs agree
        admin.cursor().execute(
            f"CREATE USER IF NOT EXISTS '{MYSQL_USER}'@'%' IDENTIFIED BY 's3cret'"
        )
    finally:
        admin.close()
    if case == "mysql-wrong-password":
        url = _replace(mysql, netloc=MYSQL_USER + ":wrong@{host}")
        return url, f"Access denied for user '{MYSQL_USER}'@"
    if case == "mysql-no-access-to-database":
        url = _replace(mysql, netloc=MYSQL_USER + ":s3cret@{host}")
        return url, f"Access denied for user '{MYSQL_USER}'@'%' to database"
    raise pytest.UsageError(f"no bad setting {case!r}")
