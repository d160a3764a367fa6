"""examples/dashboard/django_project, which docs/dashboard.md shows: the dashboard
mounted beside Django in the site's ASGI application, behind Django's own login.
Run as written in a copy of the project: ``migrate``, then (in ``manage.py shell``)
requests through the ASGI app with a staff user's session cookie, another user's,
and none."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.django_projects import manage_copy as manage

pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dashboard" / "django_project"

REQUESTS = """
import json
from django.contrib.auth.models import User
from django.test import Client
from starlette.testclient import TestClient

import activejob
from mysite.asgi import application


@activejob.job
def greet(name):
    return name


User.objects.create_user("ada", password="pw", is_staff=True)
User.objects.create_user("bob", password="pw")
greet.perform_later("from django")


def cookie(name):
    client = Client()
    assert client.login(username=name, password="pw")
    return {"sessionid": client.cookies["sessionid"].value}


site = TestClient(application)
staff = site.get("/admin/jobs/jobs", cookies=cookie("ada"))
print(json.dumps({
    "staff": staff.status_code,
    "job_listed": "greet" in staff.text,
    "links_follow_the_mount": 'href="/admin/jobs/failed"' in staff.text,
    "other_user": site.get("/admin/jobs/", cookies=cookie("bob")).status_code,
    "anonymous": site.get("/admin/jobs/").status_code,
    "static": site.get("/admin/jobs/static/dashboard.css").status_code,
    "django": site.get("/", cookies=cookie("ada")).json(),
}))
"""


def test_the_dashboard_beside_django_lets_in_django_staff_only(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__"))
    manage(folder, "migrate", "--no-input")
    seen = json.loads(manage(folder, "shell", "-v0", "-c", REQUESTS).strip().splitlines()[-1])
    assert seen == {
        "staff": 200,
        "job_listed": True,
        "links_follow_the_mount": True,
        "other_user": 403,
        "anonymous": 403,
        "static": 403,
        "django": {"dashboard": "/admin/jobs/", "user": "ada"},
    }


@pytest.mark.parametrize("name", ["mysite/asgi.py", "mysite/settings.py"])
def test_docs_dashboard_shows_the_django_files_as_they_are(name: str) -> None:
    text = (ROOT / "docs" / "dashboard.md").read_text()
    shown = f"# examples/dashboard/django_project/{name}\n{(EXAMPLE / name).read_text()}"
    assert shown in text, f"docs/dashboard.md is out of date for {name}"
