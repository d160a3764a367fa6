"""What a MariaDB/MySQL server tells the storage: whether its version will do, and
what its errors mean (an outage to ride out, settings it will never accept, a deadlock
to run again, missing tables).

Example::

    check_server_version("10.11.6-MariaDB")  # fine
    with translated():
        cursor.execute(sql)                  # MySQLdb errors become storage errors
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import MySQLdb

from activejob.errors import ConfigurationError
from activejob.storage.base import (
    SchemaError,
    StorageConfigurationError,
    StorageError,
    StorageUnavailable,
)

__all__ = [
    "MIN_MARIADB",
    "MIN_MYSQL",
    "check_server_version",
    "connect_error",
    "deadlocked",
    "translated",
]

NO_SUCH_TABLE = 1146
"""ER_NO_SUCH_TABLE: the activejob tables are missing."""
DEADLOCK = 1213
"""ER_LOCK_DEADLOCK: InnoDB rolled the transaction back whole."""
MIN_MARIADB = (10, 6)
"""``SKIP LOCKED`` (10.6) and ``JSON_TABLE`` (10.6)."""
MIN_MYSQL = (8, 0)
"""``SKIP LOCKED`` and ``JSON_TABLE`` (8.0)."""


def check_server_version(version: str) -> None:
    """Raise :class:`ConfigurationError` for a server without ``SKIP LOCKED``.

    Example::

        check_server_version("10.11.6-MariaDB")  # fine
        check_server_version("5.7.44")           # ConfigurationError
    """
    match = re.match(r"(\d+)\.(\d+)", version)
    found = (int(match[1]), int(match[2])) if match else (0, 0)
    mariadb = "mariadb" in version.lower()
    needed = MIN_MARIADB if mariadb else MIN_MYSQL
    if found < needed:
        name = "MariaDB" if mariadb else "MySQL"
        raise ConfigurationError(
            f"the mysql adapter needs MariaDB >= 10.6 or MySQL >= 8.0 (FOR UPDATE SKIP LOCKED, "
            f"JSON_TABLE); this server is {name} {version}"
        )


_REFUSED = {
    1044: "ER_DBACCESS_DENIED_ERROR",
    1045: "ER_ACCESS_DENIED_ERROR",
    1049: "ER_BAD_DB_ERROR",
    1698: "ER_ACCESS_DENIED_NO_PASSWORD_ERROR",
}
"""What the server answers when it will never accept these settings, however often we
retry. (A locked account, 4151 or 3118, is an outage an operator ends: retried.)"""
_UNREACHABLE = {
    2002: "CR_CONNECTION_ERROR",
    2003: "CR_CONN_HOST_ERROR",
    2005: "CR_UNKNOWN_HOST",
    2013: "CR_SERVER_LOST",
}
"""The client's own codes for a server it could not reach (or lost while connecting)."""


def connect_error(exc: MySQLdb.OperationalError, where: str) -> Exception:
    """A failed connection as the error the caller can act on."""
    code = exc.args[0] if exc.args else None
    if code in _REFUSED:
        reason = exc.args[1] if len(exc.args) > 1 else str(exc)
        return StorageConfigurationError(f"{where}: {reason}")
    return StorageUnavailable(f"mysql: {exc}", unreachable=code in _UNREACHABLE)


def deadlocked(exc: BaseException) -> bool:
    """Whether ``exc`` (a storage error) is InnoDB's deadlock (1213): the transaction
    was rolled back whole and may run again."""
    cause = exc.__cause__
    return (
        isinstance(cause, MySQLdb.OperationalError)
        and bool(cause.args)
        and (cause.args[0] == DEADLOCK)
    )


@contextmanager
def translated() -> Iterator[None]:
    """mysqlclient errors as storage errors, with the driver's exception chained."""
    try:
        yield
    except MySQLdb.ProgrammingError as exc:
        if exc.args and exc.args[0] == NO_SUCH_TABLE:
            raise SchemaError(
                f"the activejob tables are missing ({exc}): run `activejob migrate`"
            ) from exc
        raise StorageError(f"mysql: {exc}") from exc
    except (MySQLdb.OperationalError, MySQLdb.InterfaceError) as exc:
        raise StorageUnavailable(f"mysql: {exc}") from exc
    except MySQLdb.Error as exc:
        raise StorageError(f"mysql: {exc}") from exc
