"""Shared fixtures: a clean configuration per test, and condition waits."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from activejob import config
from activejob.adapters.cache import reset_adapters


@pytest.fixture(autouse=True)
def clean_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the default configuration and no built adapters."""
    monkeypatch.delenv("ACTIVEJOB_ADAPTER", raising=False)
    saved = dataclasses.replace(config.get_config())
    yield
    reset_adapters(wait=True)
    for field in dataclasses.fields(saved):
        setattr(config.get_config(), field.name, getattr(saved, field.name))
