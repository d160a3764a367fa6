"""Fixtures of the reliability tests: private servers they may stop and restart."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from activejob.adapters.cache import reset_adapters
from tests.reliability.chaos_support import chaos


@pytest.fixture
def home() -> Iterator[Path]:
    """A temporary folder other users can enter (the private PostgreSQL runs as
    ``postgres``; pytest's own ``tmp_path`` is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="activejob-reliability-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def private_pg(home: Path) -> Iterator[chaos.PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, started (skips, fails under CI,
    without the server binaries)."""
    try:
        server = chaos.PrivatePostgres(home)
    except chaos.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        reset_adapters(wait=True)
        server.close()
