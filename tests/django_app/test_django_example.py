"""examples/django, the project docs/django.md shows, runs as written: ``migrate``, a
POST to its view, ``manage.py activejob worker --burst``, the order shipped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.django_projects import manage_copy as manage

pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "django"
FILES = [
    "mysite/settings.py",
    "mysite/urls.py",
    "shop/models.py",
    "shop/jobs.py",
    "shop/views.py",
]

POST = """
import json
import re
from django.test import Client
response = Client(HTTP_HOST="localhost").post("/orders", {"email": "ada@example.com"})
print(json.dumps(response.json()))
"""
ORDERS = """
import json
import re
from shop.models import Order
print(json.dumps([[o.email, o.shipped] for o in Order.objects.order_by("pk")]))
"""


def test_the_example_project_ships_an_order_through_the_worker(tmp_path: Path) -> None:
    folder = tmp_path / "django"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__"))
    manage(folder, "migrate", "--no-input")
    placed = json.loads(manage(folder, "shell", "-v0", "-c", POST))
    assert json.loads(manage(folder, "shell", "-v0", "-c", ORDERS)) == [["ada@example.com", False]]
    shown = json.loads(manage(folder, "activejob", "jobs", "show", placed["job_id"], "--json"))
    assert shown["queue_name"] == "shop_default" and shown["state"] == "ready"
    manage(folder, "activejob", "worker", "--burst")
    assert json.loads(manage(folder, "shell", "-v0", "-c", ORDERS)) == [["ada@example.com", True]]


@pytest.mark.parametrize("name", FILES)
def test_docs_django_shows_the_example_files_as_they_are(name: str) -> None:
    text = (ROOT / "docs" / "django.md").read_text()
    shown = f"# examples/django/{name}\n{(EXAMPLE / name).read_text()}"
    assert shown in text, f"docs/django.md is out of date for examples/django/{name}"


def test_every_other_python_block_of_docs_django_runs() -> None:
    text = (ROOT / "docs" / "django.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    others = [b for b in blocks if not b.startswith("# examples/")]
    assert others, "docs/django.md has no stand-alone python block any more"
    for block in others:
        namespace: dict[str, object] = {"__name__": "docs_django"}
        exec(compile(block, "docs/django.md", "exec"), namespace)
    audit = namespace["AuditJob"]
    assert audit.enqueue_after_transaction_commit is False
