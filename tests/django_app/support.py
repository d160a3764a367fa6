"""The test Django project (tests/django_app/project), run as a user runs it: ``python
manage.py ...`` in a subprocess, on a database of its own per test module."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from tests import django_projects


class Project(django_projects.Project):
    """The project of tests/django_app."""

    folder = Path(__file__).parent / "project"
    name = "django_app"

    def scenario(self, *args: str) -> Any:
        """What the project's ``scenario`` command printed (JSON)."""
        return self.json_of("scenario", *args)


sqlite_project = functools.partial(django_projects.sqlite_project, Project)
postgresql_project = functools.partial(django_projects.postgresql_project, Project)
mysql_project = functools.partial(django_projects.mysql_project, Project)
