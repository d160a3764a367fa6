"""The GlobalID guide's examples are the files in examples/globalid/, and they run as
written (each in its own process, as a reader would run it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.globalid.support import need

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "globalid"
GUIDE = ROOT / "docs" / "globalid.md"


def body(path: Path) -> str:
    """The file after its module docstring."""
    return path.read_text().split('"""', 2)[2].lstrip("\n")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)


@pytest.mark.parametrize(
    "name",
    [
        "blog.py",
        "sqlalchemy_example.py",
        "shop/models.py",
        "shop/jobs.py",
        "django_example.py",
        "locatable_example.py",
    ],
)
def test_the_guide_shows_each_example_file_whole(name: str) -> None:
    assert body(EXAMPLES / name) in python_blocks()


def run_example(name: str, tmp_path: Path) -> list[str]:
    """Run an example in an empty folder, with its own empty temporary folder: both are
    empty again when it is done (its files went to a fresh folder, removed at exit)."""
    cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    temp.mkdir()
    # Elsewhere than the checkout: make sure this checkout's activejob is the one imported.
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert list(cwd.iterdir()) == []
    assert list(temp.iterdir()) == []
    return done.stdout.splitlines()


def test_sqlalchemy_example_runs(tmp_path: Path) -> None:
    need("sqlalchemy")
    assert sorted(run_example("sqlalchemy_example.py", tmp_path)) == [
        "dropped: record not found: gid://blog/blog.User/2",
        "welcome mail to ann@example.org",
    ]


def test_django_example_runs(tmp_path: Path) -> None:
    need("django")
    assert sorted(run_example("django_example.py", tmp_path)) == [
        "dropped: record not found: gid://shop/shop.Customer/2",
        "receipt to ann@example.org",
    ]


def test_locatable_example_runs(tmp_path: Path) -> None:
    assert run_example("locatable_example.py", tmp_path) == [
        "gid://billing/Invoice/7",
        "Invoice(id='8', total=75)",
        "charging 130 for invoice 7",
    ]
