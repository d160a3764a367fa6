"""The host application's check: a plain function runs on a worker thread (so it may
query a database, as Django's session and user do), an ``async def`` is awaited."""

from __future__ import annotations

import asyncio
import threading

from starlette.requests import Request
from starlette.testclient import TestClient

from activejob.dashboard import create_app
from activejob.storage.sql.sqlite import SQLiteStorage


def test_a_plain_check_runs_off_the_event_loop(sqlite_storage: SQLiteStorage) -> None:
    seen: list[bool] = []

    def check(request: Request) -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            seen.append(True)  # no loop in this thread: a worker thread
        else:
            seen.append(False)
        return request.headers.get("x-staff") == "yes"

    app = create_app(sqlite_storage, auth=check)
    assert TestClient(app).get("/").status_code == 403
    assert TestClient(app, headers={"x-staff": "yes"}).get("/").status_code == 200
    assert seen == [True, True]


def test_an_async_check_is_awaited_on_the_loop(sqlite_storage: SQLiteStorage) -> None:
    threads: list[str] = []

    async def check(request: Request) -> bool:
        # Not awaited, the coroutine would be truthy and let everyone in.
        threads.append(threading.current_thread().name)
        return request.headers.get("x-staff") == "yes"

    app = create_app(sqlite_storage, auth=check)
    assert TestClient(app).get("/queues").status_code == 403
    assert TestClient(app, headers={"x-staff": "yes"}).get("/queues").status_code == 200
    assert len(threads) == 2
