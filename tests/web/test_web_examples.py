"""examples/web: the FastAPI and Flask apps, driven by their own test clients, enqueue
into a real SQLite file, and ``activejob worker --burst`` then runs those jobs."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from activejob.adapters.durable import storage_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "web"


@pytest.fixture
def adapter_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    monkeypatch.setenv("ACTIVEJOB_ADAPTER", url)
    return url


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Imports an example module as its own folder would (``jobs`` top-level)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name: str) -> ModuleType:
        return importlib.import_module(name)

    yield load
    for name in ("fastapi_app", "flask_app", "jobs"):
        sys.modules.pop(name, None)


def stored(url: str, job_id: str) -> tuple[str, str, list[object]]:
    info = storage_of(url).get(job_id)
    assert info is not None, f"job {job_id} is not in {url}"
    return info.job_class, info.queue_name, info.payload["arguments"]


def run_worker(url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVEJOB_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "activejob",
            "worker",
            "--burst",
            "--adapter",
            url,
            "--import",
            "jobs",
        ],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_fastapi_handlers_enqueue_sync_and_async(
    adapter_url: str, example: Callable[[str], ModuleType]
) -> None:
    from fastapi.testclient import TestClient

    module = example("fastapi_app")
    with TestClient(module.app) as client:  # runs the lifespan: configure()
        signup = client.post("/signup", params={"email": "ada@example.com"})
        resize = client.post("/images/7/resize", params={"width": 640})
    assert signup.status_code == 200 and resize.status_code == 200
    assert stored(adapter_url, signup.json()["job_id"]) == (
        "jobs.WelcomeEmailJob",
        "mailers",
        ["ada@example.com"],
    )
    assert stored(adapter_url, resize.json()["job_id"]) == (
        "jobs.ResizeImageJob",
        "default",
        [7, 640],
    )
    out = run_worker(adapter_url)
    assert "welcome, ada@example.com" in out and "resizing image 7 to 640px" in out


def test_flask_views_enqueue_sync_and_async(
    adapter_url: str, example: Callable[[str], ModuleType]
) -> None:
    module = example("flask_app")
    client = module.create_app().test_client()
    signup = client.post("/signup", data={"email": "grace@example.com"})
    resize = client.post("/images/3/resize")
    assert signup.status_code == 200 and resize.status_code == 200
    assert stored(adapter_url, signup.get_json()["job_id"]) == (
        "jobs.WelcomeEmailJob",
        "mailers",
        ["grace@example.com"],
    )
    info = storage_of(adapter_url).get(resize.get_json()["job_id"])
    assert info is not None and info.priority == 10 and info.payload["arguments"] == [3, 800]
    out = run_worker(adapter_url)
    assert "welcome, grace@example.com" in out and "resizing image 3 to 800px" in out


@pytest.mark.parametrize("name", ["jobs.py", "fastapi_app.py", "flask_app.py"])
def test_docs_web_frameworks_shows_the_example_files_as_they_are(name: str) -> None:
    text = (ROOT / "docs" / "web-frameworks.md").read_text()
    shown = f"# examples/web/{name}\n{(EXAMPLES / name).read_text()}"
    assert shown in text, f"docs/web-frameworks.md is out of date for examples/web/{name}"
