"""Django's own task-backend tests, adapted (tests/djtask_backend/project/taskapp/cases.py),
run against ``ActiveJobBackend`` on the ``django`` adapter over SQLite and PostgreSQL,
with ``manage.py activejob worker --burst`` as the worker. One project process runs
every case per database; each case is reported here on its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.djtask_backend.support import case_names, postgresql_project, sqlite_project

pytest.importorskip("django")
pytest.importorskip("django_tasks")

MAKERS = {"sqlite": sqlite_project, "postgresql": postgresql_project}


@pytest.fixture(scope="module", params=list(MAKERS))
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[str, dict[str, str]]]:
    with MAKERS[request.param]() as project:
        project.manage("migrate", "--no-input")
        yield project.run_cases()


@pytest.mark.parametrize("case", case_names())
def test_django_case(outcomes: dict[str, dict[str, str]], case: str) -> None:
    assert case in outcomes, f"{case} did not run (outcomes: {sorted(outcomes)})"
    outcome = outcomes[case]
    assert outcome["outcome"] == "passed", outcome["detail"]


def test_every_case_is_reported() -> None:
    assert len(case_names()) >= 29
