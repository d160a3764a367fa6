"""A test Django project run as a user runs it: ``python manage.py ...`` in a
subprocess, on a database of its own (SQLite, PostgreSQL or MariaDB). Shared by
tests/django_app and tests/djtask_backend: each support module subclasses
:class:`Project` with its folder and binds the ``*_project`` helpers to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from tests.services import service_url

SRC = Path(__file__).parents[1] / "src"
P = TypeVar("P", bound="Project")


@dataclass
class Project:
    """One database, and ``manage.py`` commands of the project in ``folder`` run against it."""

    folder: ClassVar[Path]
    name: ClassVar[str]
    """Names its temporary folder and databases."""
    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    def manage(self, *args: str, check: bool = True, timeout: float = 300, **env: str) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.folder,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.log.append(f"$ manage.py {' '.join(args)}\n{proc.stdout}{proc.stderr}")
        if check and proc.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return proc.stdout

    def json_of(self, *args: str) -> Any:
        """A management command that prints JSON: what it printed."""
        return json.loads(self.manage(*args))

    def python(self, code: str, **env: str) -> Any:
        """Run ``code`` in a Django shell of the project; its last line printed is JSON."""
        out = self.manage("shell", "-c", code, **env)
        return json.loads(out.strip().splitlines()[-1])


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVEJOB_", "AJ_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(values)
    return env


@contextmanager
def sqlite_project(kind: type[P], **values: str) -> Iterator[P]:
    """The project on a SQLite file of its own."""
    with tempfile.TemporaryDirectory(prefix=f"aj-{kind.name}-") as tmp:
        yield kind(_env(AJ_DJANGO_NAME=str(Path(tmp) / "db.sqlite3"), **values))


@contextmanager
def postgresql_project(kind: type[P], **values: str) -> Iterator[P]:
    """The project on a PostgreSQL database of its own, dropped afterwards."""
    from tests.globalid.support import pg_database

    server = urlsplit(service_url("postgresql"))
    with pg_database(f"aj_{kind.name}") as url:
        yield kind(
            _env(
                AJ_DJANGO_ENGINE="postgresql",
                AJ_DJANGO_NAME=urlsplit(url).path.lstrip("/"),
                AJ_DJANGO_HOST=server.hostname or "127.0.0.1",
                AJ_DJANGO_PORT=str(server.port or 5432),
                AJ_DJANGO_USER=server.username or "postgres",
                **values,
            )
        )


@contextmanager
def mysql_project(kind: type[P], **values: str) -> Iterator[P]:
    """The project on a MariaDB database of its own, dropped afterwards."""
    from tests.backends.conftest import mysql_private_database

    server = service_url("mysql")
    parts = urlsplit(server)
    database = f"aj_{kind.name}_{os.getpid()}"
    with mysql_private_database(server, database, migrate=False):
        yield kind(
            _env(
                AJ_DJANGO_ENGINE="mysql",
                AJ_DJANGO_NAME=database,
                AJ_DJANGO_HOST=parts.hostname or "127.0.0.1",
                AJ_DJANGO_PORT=str(parts.port or 3306),
                AJ_DJANGO_USER=parts.username or "root",
                **values,
            )
        )


def manage_copy(folder: Path, *args: str) -> str:
    """``python manage.py ...`` in ``folder``, a copy of an example project, with only
    ``src`` importable and no activejob settings from this environment; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVEJOB_", "AJ_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
