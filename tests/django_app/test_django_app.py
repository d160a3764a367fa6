"""``activejob.contrib.django`` in a real Django project (tests/django_app/project) on
SQLite, PostgreSQL and MariaDB: ``manage.py migrate`` makes our tables, jobs enqueued inside
``transaction.atomic()`` join or wait for the transaction, and ``manage.py activejob
worker --burst`` runs them, Django models travelling as GlobalIDs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.django_app.support import Project, mysql_project, postgresql_project, sqlite_project

pytest.importorskip("django")


MAKERS = {"sqlite": sqlite_project, "postgresql": postgresql_project, "mysql": mysql_project}


@pytest.fixture(scope="module", params=list(MAKERS))
def project(request: pytest.FixtureRequest) -> Iterator[Project]:
    with MAKERS[request.param]() as built:
        built.manage("migrate", "--no-input")
        yield built


def test_migrate_creates_the_schema_activejob_migrate_agrees_on(project: Project) -> None:
    assert "activejob.0001_initial" in project.manage("showmigrations", "--plan", "activejob")
    assert "up to date" in project.manage("activejob", "migrate")
    assert project.scenario("adapter").startswith("django adapter (default: ")


def test_transaction_on_the_django_adapter_joins_it(project: Project) -> None:
    seen = project.scenario("transactions")
    assert seen["commit_inside"] is False  # not committed yet: a worker cannot see it
    assert seen["commit_after"] is True
    assert seen["rollback_after"] is False and seen["rollback_orders"] == 0
    assert seen["nested"] == [True, False, True]  # the savepoint's job rolled back with it
    # The override is for other adapters: here the job is in the transaction anyway.
    assert seen["override_inside"] is False and seen["override_after_rollback"] is False
    assert seen["bulk_now"] == 2 and seen["bulk_after"] == [True, True]


def test_transaction_on_another_adapter_waits_for_on_commit(project: Project) -> None:
    seen = project.scenario("transactions", "test:")
    assert seen["commit_inside"] is False and seen["commit_after"] is True
    assert seen["rollback_after"] is False and seen["rollback_orders"] == 0
    assert seen["nested"] == [True, False, True]
    # enqueue_after_transaction_commit = False: enqueued at once, kept after a rollback.
    assert seen["override_inside"] is True and seen["override_after_rollback"] is True
    assert seen["bulk_now"] == 0 and seen["bulk_inside"] == [False, False]
    assert seen["bulk_after"] == [True, True]


def test_worker_runs_model_arguments_loaded_fresh(project: Project) -> None:
    project.scenario("enqueue", "fresh-1", "fresh-2")
    project.manage("activejob", "worker", "--burst")
    orders = {o["number"]: o for o in project.scenario("orders")}
    for number in ("fresh-1", "fresh-2"):
        assert orders[number]["shipped"] is True
        # Changed after the enqueue: the worker loaded the row, not a copy in the payload.
        assert orders[number]["note"] == f"shipped {number} (seen as edited)"


def test_a_deleted_record_fails_or_is_discarded_by_the_jobs_rules(project: Project) -> None:
    [failing] = project.scenario("enqueue", "gone")
    [lenient] = project.scenario("enqueue-lenient", "gone-too")
    project.scenario("delete", "gone", "gone-too")
    project.manage("activejob", "worker", "--burst", check=False)
    shown = json.loads(project.manage("activejob", "jobs", "show", failing["job_id"], "--json"))
    assert shown["state"] == "failed", shown
    # RecordNotFound is the DeserializationError of a GlobalID whose row is gone.
    assert shown["error"]["exception_class"] == "activejob.errors.RecordNotFound", shown
    assert "gid://activejob/shop.Order/" in shown["error"]["message"]
    shown = json.loads(project.manage("activejob", "jobs", "show", lenient["job_id"], "--json"))
    assert shown["state"] == "discarded", shown  # @discard_on(RecordNotFound)


def test_queues_jobs_and_recurring_commands_use_the_settings_adapter(project: Project) -> None:
    project.scenario("enqueue", "listed")
    queues = json.loads(project.manage("activejob", "queues", "list", "--json"))
    assert "shop_default" in {q["name"] for q in queues}  # QUEUE_NAME_PREFIX applied
    listed = json.loads(project.manage("activejob", "jobs", "list", "--json"))
    assert "shop.jobs.ShipOrderJob" in {j["job_class"] for j in listed}
    assert json.loads(project.manage("activejob", "recurring", "list", "--json")) == []


def test_imports_setting_loads_modules_in_every_worker(project: Project) -> None:
    project.scenario("enqueue-extra", "extra-1")
    project.manage("activejob", "worker", "--burst")
    orders = {o["number"]: o for o in project.scenario("orders")}
    assert orders["extra-1"]["note"] == "extra"


def test_bad_urls_and_settings_are_configuration_errors(project: Project) -> None:
    refused = project.scenario("refused", "django://nope", "django://memory", "django://?bogus=1")
    assert "no database 'nope' in settings.DATABASES" in refused[0]
    assert "in-memory SQLite database" in refused[1]
    assert "bogus" in refused[2]
    bad = Project({**project.env, "AJ_DJANGO_BAD_SETTING": "1"})
    with pytest.raises(AssertionError, match="unknown key\\(s\\) QUEUE_PREFIX"):
        bad.manage("scenario", "adapter")
