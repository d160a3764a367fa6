"""Django models as GlobalIDs, against SQLite and the real PostgreSQL server, with
Django configured in this process (a tiny app in tests/globalid/djangoapp)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.globalid.support import PgOutage, SqliteLock, need, pg_database
from tests.services import DEFAULTS

django = need("django")

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import OperationalError, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from activejob import Job, RecordNotFound, SerializationError, discard_on  # noqa: E402
from activejob.arguments import serialize, serialize_arguments  # noqa: E402
from activejob.globalid import GlobalID, UnknownModel, locate, locate_many  # noqa: E402
from activejob.job.execution import run  # noqa: E402

PG_NAME = f"aj_gid_dj_{os.getpid()}"


def _pg_settings() -> dict[str, Any]:
    url = urlsplit(os.environ.get("ACTIVEJOB_TEST_POSTGRESQL_URL", DEFAULTS["postgresql"]))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": PG_NAME,
        "USER": url.username or "postgres",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "127.0.0.1",
        "PORT": url.port or 5432,
    }


@pytest.fixture(scope="module")
def sqlite_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="aj-gid-django-") as folder:
        yield Path(folder) / "records.sqlite3"


@pytest.fixture(scope="module")
def models(sqlite_path: Path) -> ModuleType:
    """Django set up once in this process, with the test app installed."""
    if not settings.configured:
        settings.configure(
            DATABASES={
                # A short busy timeout: a locked database fails fast instead of waiting 5s.
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": str(sqlite_path),
                    "OPTIONS": {"timeout": 0.2},
                },
                "pg": _pg_settings(),
            },
            INSTALLED_APPS=["tests.globalid.djangoapp.apps.GidAppConfig"],
            DATABASE_ROUTERS=["tests.globalid.djangoapp.routers.ChosenDatabase"],
            USE_TZ=True,
        )
        django.setup()
    if "gidapp" not in apps.app_configs:
        pytest.fail("Django was configured elsewhere in this process without the test app")
    from tests.globalid.djangoapp import models as module

    _create_tables("default")
    return module


def _create_tables(alias: str) -> None:
    with connections[alias].schema_editor() as editor:
        for model in apps.get_app_config("gidapp").get_models():
            editor.create_model(model)


@pytest.fixture(scope="module")
def pg_ready(models: ModuleType) -> Iterator[None]:
    with pg_database("aj_gid_dj") as url:
        assert url.endswith("/" + PG_NAME)
        _create_tables("pg")
        yield
        connections["pg"].close()


@dataclass
class Db:
    alias: str
    outage: Callable[[], AbstractContextManager[object]]

    def queries(self) -> CaptureQueriesContext:
        return CaptureQueriesContext(connections[self.alias])


@pytest.fixture(params=["default", "pg"])
def db(request: pytest.FixtureRequest, models: ModuleType, sqlite_path: Path) -> Iterator[Db]:
    from tests.globalid.djangoapp import routers

    alias = request.param
    if alias == "pg":
        request.getfixturevalue("pg_ready")

        @contextmanager
        def outage() -> Iterator[None]:
            connections["pg"].close()
            try:
                with PgOutage(f"postgresql:///{PG_NAME}"):
                    yield
            finally:
                connections["pg"].close()  # the broken connection: reconnect next time
    else:

        def outage() -> AbstractContextManager[object]:
            return SqliteLock(sqlite_path)

    routers.alias = alias
    try:
        yield Db(alias, outage)
    finally:
        for model in apps.get_app_config("gidapp").get_models():
            model._base_manager.using(alias).all().delete()
        routers.alias = "default"


@discard_on(RecordNotFound)
class GreetJob(Job):
    def perform(self, author: Any) -> str:
        return f"hello {author.name}"


def test_a_saved_record_has_a_globalid(db: Db, models: ModuleType) -> None:
    author = models.Author.objects.create(name="ann")
    assert GlobalID.create(author) == GlobalID("activejob", "gidapp.Author", str(author.pk))
    assert serialize(author) == {"_aj": "gid", "v": f"gid://activejob/gidapp.Author/{author.pk}"}


def test_an_unsaved_record_is_refused_at_enqueue(db: Db, models: ModuleType) -> None:
    for unsaved in (models.Author(name="new"), models.Device()):  # a Device has a pk already
        with pytest.raises(SerializationError, match="not saved yet"):
            serialize_arguments((unsaved,), {})


def test_locate_reads_the_row_again(db: Db, models: ModuleType) -> None:
    author = models.Author.objects.create(name="ann")
    gid = GlobalID.create(author)
    models.Author.objects.filter(pk=author.pk).update(name="anne")
    with db.queries() as captured:
        found = locate(gid)
    assert isinstance(found, models.Author) and found is not author
    assert found.name == "anne"
    assert len(captured.captured_queries) == 1


def test_keys_of_every_kind(db: Db, models: ModuleType) -> None:
    tag = models.Tag.objects.create(slug="a/b c+d%")
    device = models.Device.objects.create()
    assert str(GlobalID.create(tag)) == "gid://activejob/gidapp.Tag/a%2Fb%20c%2Bd%25"
    assert locate(str(GlobalID.create(tag))).slug == "a/b c+d%"
    assert locate(str(GlobalID.create(device))).pk == device.pk


@pytest.mark.skipif(django.VERSION < (5, 2), reason="composite primary keys need Django 5.2")
def test_composite_primary_keys(db: Db, models: ModuleType) -> None:
    seat = models.Seat.objects.create(event="gala/2026", number=12)
    gid = GlobalID.create(seat)
    assert gid == GlobalID("activejob", "gidapp.Seat", ("gala/2026", "12"))
    found = locate(str(gid))
    assert (found.event, found.number) == ("gala/2026", 12)
    other = models.Seat.objects.create(event="gala/2026", number=13)
    with db.queries() as captured:
        both = locate_many([GlobalID.create(other), gid])
    assert [s.number for s in both] == [13, 12]
    assert len(captured.captured_queries) == 1


def test_missing_and_impossible_ids_are_record_not_found(db: Db, models: ModuleType) -> None:
    with pytest.raises(RecordNotFound, match=r"gid://activejob/gidapp\.Author/999"):
        locate("gid://activejob/gidapp.Author/999")
    with db.queries() as captured:
        for impossible in ("abc", ("1", "2")):
            with pytest.raises(RecordNotFound):
                locate(GlobalID("activejob", "gidapp.Author", impossible))
        with pytest.raises(RecordNotFound):
            locate(GlobalID("activejob", "gidapp.Device", "not-a-uuid"))
    assert captured.captured_queries == []


def test_ids_out_of_the_column_range_are_record_not_found_without_a_query(
    db: Db, models: ModuleType
) -> None:
    # SQLite keeps any integer in 64 bits whatever the declared type; PostgreSQL does not.
    widest = 2**15 - 1 if db.alias == "pg" else 2**40
    models.Counter.objects.create(id=widest)
    models.Event.objects.create(id=2**63 - 1)
    impossible = [f"Counter/{widest + 1}"] if db.alias == "pg" else []
    impossible += [f"Event/{2**63}", f"Event/{-(2**63) - 1}"]
    impossible += [f"{m}/{t}" for m in ("Counter", "Author") for t in ("9" * 25, "-" + "9" * 25)]
    gids = [f"gid://activejob/gidapp.{text}" for text in impossible]
    with db.queries() as captured:
        for gid in gids:
            with pytest.raises(RecordNotFound, match=gid):
                locate(gid)
            with pytest.raises(RecordNotFound, match=gid):
                locate_many([gid])
    assert captured.captured_queries == []
    found = [
        f"gid://activejob/gidapp.Counter/{widest}",
        f"gid://activejob/gidapp.Event/{2**63 - 1}",
    ]
    assert [locate(gid).pk for gid in found] == [widest, 2**63 - 1]
    with db.queries() as captured:
        records = locate_many([*gids, *found], ignore_missing=True)
    assert [record.pk for record in records] == [widest, 2**63 - 1]
    assert len(captured.captured_queries) == 2  # one per model, for the ids a row can have


def test_locate_many_one_query_per_model_in_order(db: Db, models: ModuleType) -> None:
    ann, bob = (models.Author.objects.create(name=n) for n in ("ann", "bob"))
    tag = models.Tag.objects.create(slug="x")
    gids = [GlobalID.create(r) for r in (bob, tag, ann, bob)]
    with db.queries() as captured:
        found = locate_many(gids)
    assert [getattr(r, "name", None) or r.slug for r in found] == ["bob", "x", "ann", "bob"]
    assert len(captured.captured_queries) == 2
    missing = GlobalID("activejob", "gidapp.Author", "999")
    with pytest.raises(RecordNotFound, match="/999"):
        locate_many([gids[0], missing])
    assert [a.name for a in locate_many([missing, gids[2]], ignore_missing=True)] == ["ann"]


def test_records_hidden_by_the_default_manager_are_found(db: Db, models: ModuleType) -> None:
    note = models.Note.objects.create(text="draft", hidden=True)
    assert not models.Note.objects.filter(pk=note.pk).exists()
    assert locate(GlobalID.create(note)).text == "draft"


def test_only_models_of_installed_apps_can_be_named(db: Db, models: ModuleType) -> None:
    for name in ("auth.User", "contenttypes.ContentType", "gidapp.Nope", "Author", "os.system"):
        with pytest.raises(UnknownModel):
            locate(GlobalID("activejob", name, "1"))


def test_a_record_deleted_before_the_job_runs_discards_it(db: Db, models: ModuleType) -> None:
    author = models.Author.objects.create(name="ann")
    payload = json.loads(json.dumps(GreetJob(author).serialize()))
    assert run(payload).value == "hello ann"
    author.delete()
    outcome = run(payload)
    assert outcome.kind == "discarded"
    assert isinstance(outcome.exception, RecordNotFound)


def test_an_outage_is_the_database_error_never_record_not_found(db: Db, models: ModuleType) -> None:
    author = models.Author.objects.create(name="ann")
    payload = json.loads(json.dumps(GreetJob(author).serialize()))
    with db.outage():
        with pytest.raises(OperationalError):
            locate(GlobalID.create(author))
        outcome = run(payload)
        assert outcome.kind == "failed"
        assert isinstance(outcome.exception, OperationalError)
    assert run(payload).value == "hello ann"  # back up: the same payload runs
