"""tests/services.py: a missing server skips a test on a laptop and fails it under CI."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.services import service_url


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound once to pick it, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A local port with a listening socket, for the duration of the test."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_missing_server_fails_under_ci(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVEJOB_TEST_REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI requires every service test to run"):
        service_url("redis")


def test_missing_server_skips_without_ci(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVEJOB_TEST_REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"redis server not reachable.*{closed_port}"):
        service_url("redis")


@pytest.mark.parametrize("ci", ["1", None])
def test_a_listening_server_gives_its_url(
    listening_port: int, ci: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"redis://127.0.0.1:{listening_port}/3"
    monkeypatch.setenv("ACTIVEJOB_TEST_REDIS_URL", url)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert service_url("redis") == url
