"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by
Playwright) against the real ``activejob dashboard`` command: every page loads
with no script error and no injected script running, a failed job is retried, all
failed jobs matching a filter retried through the confirmation page, a blocked job
discarded and a queue paused by clicking, the live refresh shows a new queue without a reload, and a
browser without the password is refused.

Screenshots of each page are written to the test's folder; with
``ACTIVEJOB_UPDATE_SCREENSHOTS=1`` they replace the ones in ``docs/dashboard/``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from activejob.storage.base import JobState
from activejob.storage.concurrency import ConcurrencySlot
from activejob.storage.recurring import RecurringTaskSpec
from activejob.storage.sql.sqlite import SQLiteStorage
from activejob.testing.contract import new_job
from tests.dashboard.conftest import PASSWORD, USER, seed
from tests.dashboard.served import serve

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = [
    ("overview", "/", "Overview"),
    ("jobs", "/jobs", "Jobs"),
    ("failed", "/failed", "Failed jobs"),
    ("scheduled", "/scheduled", "Scheduled jobs"),
    ("blocked", "/blocked", "Blocked jobs"),
    ("queues", "/queues", "Queues"),
    ("workers", "/workers", "Workers"),
    ("recurring", "/recurring", "Recurring tasks"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (scripts/test-tools.sh installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires the browser tests", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStorage]:
    storage = SQLiteStorage(tmp_path / "jobs.sqlite3")
    storage.migrate()
    yield storage
    storage.close()


def test_every_page_in_chromium_retry_and_pause_by_clicking(
    browser: Any, store: SQLiteStorage, tmp_path: Path
) -> None:
    ids = seed(store)
    store.push([new_job("default", job_class="app.Report") for _ in range(3)])
    slot = ConcurrencySlot("app.Charge/account-42", 1, 900.0)
    charges = [new_job("billing", job_class="app.Charge") for _ in range(3)]
    store.push([dataclasses.replace(job, concurrency=(slot,)) for job in charges])
    info = {"hostname": "web-1", "pid": 4242, "queues": ["default", "mailers"], "threads": 5}
    store.heartbeat("web-1:4242:9f3a", info)
    store.declare_recurring(
        [RecurringTaskSpec("nightly-report", "app.Report", "0 3 * * *", "UTC", "default", 0, "{}")]
    )
    env = {"ACTIVEJOB_DASHBOARD_USER": USER, "ACTIVEJOB_DASHBOARD_PASSWORD": PASSWORD}
    shots = tmp_path / "shots"
    shots.mkdir()
    with serve(f"sqlite:///{store.path}", env) as served:
        context = browser.new_context(
            http_credentials={"username": USER, "password": PASSWORD},
            viewport={"width": 1200, "height": 800},
        )
        page = context.new_page()
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(str(error)))

        for name, path, heading in [*PAGES, ("job", f"/jobs/{ids.failed}", "app.Sync")]:
            response = page.goto(served.url + path)
            assert response is not None and response.status == 200, path
            assert page.locator("h1").inner_text().startswith(heading), path
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        # Retry a failed job from the failed list.
        page.goto(served.url + "/failed")
        page.locator("tr", has_text=ids.failed[:8]).get_by_role("button", name="Retry").click()
        page.wait_for_url("**/failed?notice=*")
        assert f"retried job {ids.failed}" in page.locator(".notice").inner_text()
        assert store.get(ids.failed).state is JobState.READY  # type: ignore[union-attr]

        # Retry all matching a filter: a confirmation page says what matches, then it acts.
        page.goto(served.url + "/failed?queue=other&error=builtins.ValueError")
        page.get_by_role("button", name="Retry all matching…").click()
        page.wait_for_url("**/jobs/retry")
        assert page.locator("h1").inner_text() == "Retry all matching?"
        assert "whose last error is 'builtins.ValueError'" in page.locator(".confirm").inner_text()
        page.screenshot(path=str(shots / "confirm.png"), full_page=True)
        page.get_by_role("button", name="Retry them").click()
        page.wait_for_url("**/failed?*notice=*")
        assert "retried 1 job(s)" in page.locator(".notice").inner_text()
        assert store.get(ids.other_failed).state is JobState.READY  # type: ignore[union-attr]

        # Discard a blocked job from the blocked page.
        page.goto(served.url + "/blocked")
        waiting = charges[2].job_id
        page.locator("tr", has_text=waiting[:8]).get_by_role("button", name="Discard").click()
        page.wait_for_url("**/blocked?notice=*")
        assert store.get(waiting).state is JobState.DISCARDED  # type: ignore[union-attr]

        # Pause a queue.
        page.goto(served.url + "/queues")
        page.locator("tr", has_text="mailers").get_by_role("button", name="Pause").click()
        page.wait_for_url("**/queues?notice=*")
        assert {q.name: q.paused for q in store.queues()}["mailers"] is True
        assert page.locator("tr", has_text="mailers").get_by_role("button", name="Resume").count()

        # Run a scheduled job now.
        page.goto(served.url + "/scheduled")
        page.locator("tr", has_text=ids.scheduled[:8]).get_by_role("button", name="Run now").click()
        page.wait_for_url("**/scheduled?notice=*")
        assert f"job {ids.scheduled} runs now" in page.locator(".notice").inner_text()
        assert store.get(ids.scheduled).state is JobState.READY  # type: ignore[union-attr]

        # The live refresh brings in a queue that appeared after the page loaded.
        page.goto(served.url + "/queues")
        store.push([new_job("fresh-queue", job_class="app.Late")])
        page.get_by_role("link", name="fresh-queue").wait_for(timeout=20_000)

        # The overview on a phone.
        phone = browser.new_context(
            http_credentials={"username": USER, "password": PASSWORD},
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
        )
        small = phone.new_page()
        small.goto(served.url + "/")
        small.screenshot(path=str(shots / "overview-phone.png"), full_page=True)
        phone.close()

        # A browser without the password gets nothing: the page fails on the
        # challenge, and the browser's own request sees the 401.
        anonymous = browser.new_context()
        with pytest.raises(PlaywrightError, match="AUTH"):
            anonymous.new_page().goto(served.url + "/")
        assert anonymous.request.get(served.url + "/").status == 401
        anonymous.close()
        context.close()

    assert dialogs == [], "a script injected through a job argument ran"
    assert errors == []
    assert len(list(shots.iterdir())) == len(PAGES) + 3
    if os.environ.get("ACTIVEJOB_UPDATE_SCREENSHOTS"):
        SHOTS.mkdir(exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, SHOTS / shot.name)


def test_log_in_and_out_in_chromium(browser: Any, store: SQLiteStorage) -> None:
    """Chromium keeps the password it was given for the page (here in the URL, as a
    login prompt would) and sends it with every request; "Log out" answers 401 to
    it, so Chromium forgets it, and the next page asks for it again (a browser with
    a prompt shows the 401 page, "Logged out", when the prompt is dismissed)."""
    seed(store)
    env = {"ACTIVEJOB_DASHBOARD_USER": USER, "ACTIVEJOB_DASHBOARD_PASSWORD": PASSWORD}
    with serve(f"sqlite:///{store.path}", env) as served:
        context = browser.new_context()
        page = context.new_page()
        host = served.url.removeprefix("http://")
        response = page.goto(f"http://{USER}:{PASSWORD.replace(' ', '%20')}@{host}/")
        assert response is not None and response.status == 200
        page.get_by_role("link", name="Jobs").first.click()  # no password in this URL
        page.wait_for_url("**/jobs")
        assert page.locator("h1").inner_text() == "Jobs"

        # "Log out" answers 401 to the kept password: headless Chromium has no
        # prompt to show, so that navigation fails on the challenge...
        logout = page.get_by_role("link", name="Log out").get_attribute("href")
        assert logout == "/logout"
        with pytest.raises(PlaywrightError, match="AUTH"):
            page.goto(served.url + logout)
        # ...and the password is forgotten: the page that opened a moment ago asks again.
        with pytest.raises(PlaywrightError, match="AUTH"):
            page.goto(served.url + "/jobs")
        context.close()
