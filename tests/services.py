"""The real servers the backend tests use, and what happens when one is missing.

On a laptop without a server, its tests skip with the reason. Where ``CI`` is set
they fail instead: CI must prove every backend against its real server.
Override the addresses with ``ACTIVEJOB_TEST_POSTGRESQL_URL``,
``ACTIVEJOB_TEST_MYSQL_URL``, ``ACTIVEJOB_TEST_REDIS_URL`` and
``ACTIVEJOB_TEST_RABBITMQ_URL``.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

DEFAULTS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}


def service_url(name: str) -> str:
    """The URL of the ``name`` server, or skip (fail under CI) if it is not listening."""
    url = os.environ.get(f"ACTIVEJOB_TEST_{name.upper()}_URL", DEFAULTS[name])
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port or 0), timeout=1.0):
            pass
    except OSError as exc:
        reason = f"{name} server not reachable at {host}:{port} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires every service test to run", pytrace=False)
        pytest.skip(reason)
    return url
