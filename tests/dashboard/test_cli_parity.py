"""Every dashboard action has an ``activejob`` command with ``--json`` (issue 19,
point 6): the POST routes of the app, each mapped to its command, checked against
the real command's ``--help``."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from activejob.dashboard.app import Dashboard, routes
from activejob.dashboard.security import CsrfTokens
from tests.acceptance.test_cli_jobs import activejob_cli

TWINS = {
    "retry_job": ["jobs", "retry"],
    "discard_job": ["jobs", "discard"],
    "retry_matching": ["jobs", "retry"],  # --all with the filters
    "discard_matching": ["jobs", "discard"],
    "run_job_now": ["jobs", "run-now"],
    "pause_queue": ["queues", "pause"],
    "resume_queue": ["queues", "resume"],
    "pause_task": ["recurring", "pause"],
    "resume_task": ["recurring", "resume"],
    "run_task": ["recurring", "run"],
}


def test_every_action_route_has_a_twin() -> None:
    table = routes(Dashboard(None, CsrfTokens(None)))
    actions = {r.name for r in table if isinstance(r, Route) and "POST" in (r.methods or ())}
    assert actions == set(TWINS)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_the_twin_command_exists_and_speaks_json(name: str) -> None:
    result = activejob_cli(*TWINS[name], "--help")
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout
