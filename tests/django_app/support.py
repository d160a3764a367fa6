"""The test Django project (tests/django_app/project), run as a user runs it: ``python
manage.py ...`` in a subprocess, on a database of its own per test module."""

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
from typing import Any
from urllib.parse import urlsplit

from tests.services import service_url

PROJECT = Path(__file__).parent / "project"
SRC = Path(__file__).parents[2] / "src"


@dataclass
class Project:
    """One database, and ``manage.py`` commands run against it."""

    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    def manage(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT,
            env=self.env,
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

    def scenario(self, *args: str) -> Any:
        return json.loads(self.manage("scenario", *args))


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVEJOB_", "AJ_DJANGO"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(values)
    return env


@contextmanager
def sqlite_project() -> Iterator[Project]:
    with tempfile.TemporaryDirectory(prefix="aj-django-") as folder:
        yield Project(_env(AJ_DJANGO_NAME=str(Path(folder) / "db.sqlite3")))


@contextmanager
def postgresql_project() -> Iterator[Project]:
    from tests.globalid.support import pg_database

    server = urlsplit(service_url("postgresql"))
    with pg_database("aj_django_app") as url:
        yield Project(
            _env(
                AJ_DJANGO_ENGINE="postgresql",
                AJ_DJANGO_NAME=urlsplit(url).path.lstrip("/"),
                AJ_DJANGO_HOST=server.hostname or "127.0.0.1",
                AJ_DJANGO_PORT=str(server.port or 5432),
                AJ_DJANGO_USER=server.username or "postgres",
            )
        )


@contextmanager
def mysql_project() -> Iterator[Project]:
    from tests.backends.conftest import mysql_private_database

    server = service_url("mysql")
    parts = urlsplit(server)
    name = f"aj_django_app_{os.getpid()}"
    with mysql_private_database(server, name, migrate=False):
        yield Project(
            _env(
                AJ_DJANGO_ENGINE="mysql",
                AJ_DJANGO_NAME=name,
                AJ_DJANGO_HOST=parts.hostname or "127.0.0.1",
                AJ_DJANGO_PORT=str(parts.port or 3306),
                AJ_DJANGO_USER=parts.username or "root",
            )
        )
