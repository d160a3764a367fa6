"""The django.tasks test project (tests/djtask_backend/project), run as a user runs it:
``python manage.py ...`` in a subprocess, on a database of its own per test module.

The folder is not named after the ``django_tasks`` package on purpose: a test folder
of that name would shadow it.
"""

from __future__ import annotations

import ast
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
CASES = PROJECT / "taskapp" / "cases.py"


@dataclass
class Project:
    """One database, and ``manage.py`` commands run against it."""

    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    def manage(self, *args: str, check: bool = True, timeout: float = 300, **env: str) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT,
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

    def run_cases(self, *names: str) -> dict[str, dict[str, str]]:
        """Run adapted Django cases in the project; their outcomes by ``Class.test``."""
        outcomes: dict[str, dict[str, str]] = json.loads(self.manage("run_cases", *names))
        return outcomes

    def python(self, code: str, **env: str) -> Any:
        """Run ``code`` in a Django shell of the project; its last line printed is JSON."""
        out = self.manage("shell", "-c", code, **env)
        return json.loads(out.strip().splitlines()[-1])


def case_names() -> list[str]:
    """``Class.test_name`` of every adapted case, read from the module's source (the
    module imports Django's task framework, which this process never sets up)."""
    tree = ast.parse(CASES.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("TestCase"):
            for item in node.body:
                is_function = isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                if is_function and item.name.startswith("test_"):
                    names.append(f"{node.name}.{item.name}")
    return names


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVEJOB_", "AJ_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("AJ_TASKS_ADAPTER", "django")
    env.update(values)
    return env


@contextmanager
def sqlite_project(**values: str) -> Iterator[Project]:
    with tempfile.TemporaryDirectory(prefix="aj-djtasks-") as folder:
        yield Project(_env(AJ_DJANGO_NAME=str(Path(folder) / "db.sqlite3"), **values))


@contextmanager
def postgresql_project(**values: str) -> Iterator[Project]:
    from tests.globalid.support import pg_database

    server = urlsplit(service_url("postgresql"))
    with pg_database("aj_djtasks") as url:
        yield Project(
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
def mysql_project(**values: str) -> Iterator[Project]:
    from tests.backends.conftest import mysql_private_database

    server = service_url("mysql")
    parts = urlsplit(server)
    name = f"aj_djtasks_{os.getpid()}"
    with mysql_private_database(server, name, migrate=False):
        yield Project(
            _env(
                AJ_DJANGO_ENGINE="mysql",
                AJ_DJANGO_NAME=name,
                AJ_DJANGO_HOST=parts.hostname or "127.0.0.1",
                AJ_DJANGO_PORT=str(parts.port or 3306),
                AJ_DJANGO_USER=parts.username or "root",
                **values,
            )
        )
