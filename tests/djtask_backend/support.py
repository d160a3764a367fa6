"""The django.tasks test project (tests/djtask_backend/project), run as a user runs it:
``python manage.py ...`` in a subprocess, on a database of its own per test module.

The folder is not named after the ``django_tasks`` package on purpose: a test folder
of that name would shadow it.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from tests import django_projects

PROJECT = Path(__file__).parent / "project"
CASES = PROJECT / "taskapp" / "cases.py"


class Project(django_projects.Project):
    """The project of tests/djtask_backend, on the ``django`` adapter unless told."""

    folder = PROJECT
    name = "djtasks"

    def run_cases(self, *names: str) -> dict[str, dict[str, str]]:
        """Run adapted Django cases in the project; their outcomes by ``Class.test``."""
        outcomes: dict[str, dict[str, str]] = self.json_of("run_cases", *names)
        return outcomes


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


def _project(
    helper: Callable[..., AbstractContextManager[Project]], **values: str
) -> AbstractContextManager[Project]:
    return helper(Project, **{"AJ_TASKS_ADAPTER": "django", **values})


sqlite_project = functools.partial(_project, django_projects.sqlite_project)
postgresql_project = functools.partial(_project, django_projects.postgresql_project)
mysql_project = functools.partial(_project, django_projects.mysql_project)
