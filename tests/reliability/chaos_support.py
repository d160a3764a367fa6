"""The chaos harness (``bench/chaos.py``) for tests: imported from ``bench/``, its
``Unavailable`` (no server binaries) turned into a skip, or a failure under CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import chaos  # noqa: E402

__all__ = ["chaos", "run_or_skip"]


def run_or_skip(backend: str, settings: Any) -> Any:
    """``chaos.run_backend``, skipping (failing under CI) without the server binaries."""
    try:
        return chaos.run_backend(backend, settings)
    except chaos.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; CI requires every chaos run", pytrace=False)
        pytest.skip(str(exc))
