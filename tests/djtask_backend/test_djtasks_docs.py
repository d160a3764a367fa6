"""The "django.tasks" section of docs/django.md runs as written: examples/djtasks, the
project it shows, migrated, a task enqueued from its views (sync and async), run by
``manage.py activejob worker --burst``, its result read back through ``get_result``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.django_projects import manage_copy as manage

pytest.importorskip("django")
pytest.importorskip("django_tasks")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "djtasks"
FILES = ["mysite/settings.py", "mysite/urls.py", "reports/tasks.py", "reports/views.py"]

REQUEST = """
import json
from django.test import Client
client = Client(HTTP_HOST="localhost")
response = client.{method}({path!r}, {data!r})
print(json.dumps(response.json()))
"""


def request(folder: Path, method: str, path: str, data: dict[str, str] | None = None) -> dict:
    code = REQUEST.format(method=method, path=path, data=data or {})
    reply: dict = json.loads(manage(folder, "shell", "-v0", "-c", code).strip().splitlines()[-1])
    return reply


def test_the_example_runs_a_task_through_the_worker(tmp_path: Path) -> None:
    folder = tmp_path / "djtasks"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__"))
    manage(folder, "migrate", "--no-input")
    started = request(folder, "post", "/reports", {"text": "to be or not to be"})
    awaited = request(folder, "post", "/reports/async", {"text": "hello hello"})
    assert started["status"] == awaited["status"] == "READY"
    assert request(folder, "get", f"/reports/{started['id']}")["status"] == "READY"
    shown = json.loads(manage(folder, "activejob", "jobs", "show", started["id"], "--json"))
    assert shown["priority"] == -10  # Django's 10 (larger first) is our -10 (smaller first)
    manage(folder, "activejob", "worker", "--burst")
    done = request(folder, "get", f"/reports/{started['id']}")
    assert done == {
        "id": started["id"],
        "status": "SUCCESSFUL",
        "attempts": 1,
        "value": {"words": 6, "distinct": 4},
    }
    assert request(folder, "get", f"/reports/{awaited['id']}")["value"] == {
        "words": 2,
        "distinct": 1,
    }


@pytest.mark.parametrize("name", FILES)
def test_docs_django_shows_the_example_files_as_they_are(name: str) -> None:
    text = (ROOT / "docs" / "django.md").read_text()
    shown = f"# examples/djtasks/{name}\n{(EXAMPLE / name).read_text()}"
    assert shown in text, f"docs/django.md is out of date for examples/djtasks/{name}"
