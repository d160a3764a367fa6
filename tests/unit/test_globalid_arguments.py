"""Records as job arguments: encoded as GlobalIDs (nested too), loaded fresh at
perform time; a deleted record is RecordNotFound (discard_on drops the job), a
failing lookup is not (the job is retried or fails, never silently dropped)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import activejob
from activejob import (
    DeserializationError,
    Job,
    RecordNotFound,
    SerializationError,
    after_discard,
    discard_on,
    retry_on,
)
from activejob.adapters.test import TestAdapter
from activejob.arguments import deserialize, deserialize_arguments, serialize, serialize_arguments
from activejob.globalid import register_model, unregister_model
from activejob.job.execution import run
from activejob.serializers import ObjectSerializer, register
from tests.globalid.support import Account, Ticket, Unregistered

GID = "gid://activejob/Account/1"
performed: list[Any] = []
discarded: list[BaseException] = []


@pytest.fixture(autouse=True)
def models() -> Iterator[None]:
    register_model(Account, name="Account")
    register_model(Ticket, name="Ticket")
    Account.store.reset()
    Ticket.store.reset()
    performed.clear()
    discarded.clear()
    yield
    unregister_model(Account)
    unregister_model(Ticket)


def through_json(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    data = json.loads(json.dumps(serialize_arguments(args, kwargs)))
    return deserialize_arguments(*data)


# -- the encoding -----------------------------------------------------------------------


def test_a_record_travels_as_its_globalid() -> None:
    account = Account.create(1, "ann")
    assert serialize(account) == {"_aj": "gid", "v": GID}
    assert serialize_arguments((account,), {"owner": account}) == (
        [{"_aj": "gid", "v": GID}],
        {"owner": {"_aj": "gid", "v": GID}},
    )


def test_records_inside_containers() -> None:
    ann, bob = Account.create(1, "ann"), Account.create(2, "bob")
    ticket = Ticket.create("gala", 3)
    args, kwargs = through_json([ann, (bob, ticket)], team={"lead": ann, "seats": [ticket]})
    assert [a.name for a in (args[0][0], args[0][1][0])] == ["ann", "bob"]
    assert isinstance(args[0][1], tuple)
    assert (args[0][1][1].event, args[0][1][1].seat) == ("gala", 3)
    assert kwargs["team"]["lead"].name == "ann"
    assert kwargs["team"]["seats"][0].seat == 3


def test_records_inside_sets_and_frozensets() -> None:
    ann, bob = Account.create(1, "ann"), Account.create(2, "bob")
    ticket = Ticket.create("gala", 3)
    data = serialize_arguments(({ann, "guest"},), {"seats": frozenset({bob, ticket})})
    assert {"_aj": "gid", "v": GID} in data[0][0]["v"]
    assert data[1]["seats"]["_aj"] == "frozenset"
    (members,), kwargs = through_json({ann, "guest"}, seats=frozenset({bob, ticket}))
    assert isinstance(members, set) and isinstance(kwargs["seats"], frozenset)
    (record,) = members - {"guest"}
    assert isinstance(record, Account) and record is not ann and record.name == "ann"
    assert {getattr(r, "name", None) or r.id for r in kwargs["seats"]} == {"bob", ("gala", 3)}


def test_records_as_dict_keys() -> None:
    Ticket.create("gala", 3)
    data = serialize({Ticket("gala", 3): "front row"})
    assert data == {
        "_aj": "dict",
        "v": [[{"_aj": "gid", "v": "gid://activejob/Ticket/gala/3"}, "front row"]],
    }
    ((key, value),) = deserialize(json.loads(json.dumps(data))).items()
    assert (key.event, key.seat, value) == ("gala", 3, "front row")


def test_the_record_is_loaded_fresh_not_the_enqueued_object() -> None:
    account = Account.create(1, "ann")
    data = json.loads(json.dumps(serialize_arguments((account,), {})))
    Account.store.rows["1"]["name"] = "anne"
    (loaded,), _ = deserialize_arguments(*data)
    assert loaded is not account and loaded.name == "anne"


def test_an_unsaved_record_is_refused_at_enqueue_naming_the_argument() -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments((), {"owner": Account(None, "unsaved")})
    message = str(info.value)
    assert "argument 'owner' (keyword) of type 'Account' cannot be serialized" in message
    assert "has no id yet" in message


def test_an_unregistered_locatable_is_refused_with_the_way_out() -> None:
    with pytest.raises(
        SerializationError, match=r"register it with activejob\.globalid\.register_model"
    ):
        serialize_arguments(([Unregistered(1)],), {})


def test_ordinary_objects_still_get_the_usual_error() -> None:
    with pytest.raises(SerializationError, match="is not supported; register a serializer"):
        serialize_arguments((object(),), {})


def test_a_user_serializer_wins_over_the_globalid_fallback() -> None:
    class AccountAsName(ObjectSerializer):
        klass = Account

        def serialize(self, value: Account) -> Any:
            return value.name

        def deserialize(self, data: Any) -> Any:
            return data

    register(AccountAsName)
    try:
        assert serialize(Account(1, "ann")) == {"_aj": AccountAsName.name, "v": "ann"}
    finally:
        activejob.serializers.unregister(AccountAsName)


def test_the_gid_tag_is_reserved() -> None:
    class Impostor(ObjectSerializer):
        name = "gid"
        klass = Account

    with pytest.raises(ValueError, match="reserved"):
        register(Impostor)
    with pytest.raises(ValueError, match="cannot be unregistered"):
        activejob.serializers.unregister("gid")


# -- decoding failures -----------------------------------------------------------------


def test_a_deleted_record_is_record_not_found_naming_the_gid() -> None:
    data = json.loads(json.dumps(serialize_arguments((1, Account.create(1, "ann")), {})))
    del Account.store.rows["1"]
    with pytest.raises(RecordNotFound, match=GID) as info:
        deserialize_arguments(*data)
    assert isinstance(info.value, DeserializationError)


def test_a_failing_lookup_propagates_as_itself() -> None:
    data = json.loads(json.dumps(serialize_arguments((), {"a": [Account.create(1, "ann")]})))
    Account.store.down = True
    with pytest.raises(ConnectionError, match="store unreachable") as info:
        deserialize_arguments(*data)
    assert not isinstance(info.value, DeserializationError)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "gid://activejob/Nope/1",
            "argument 0 (positional): gid://activejob/Nope/1: unknown model",
        ),
        ("https://x/Account/1", "argument 0 (positional): malformed 'gid' argument"),
        (5, "argument 0 (positional): malformed 'gid' argument: field 'v' must be str"),
    ],
)
def test_bad_gid_arguments_are_deserialization_errors(value: Any, message: str) -> None:
    with pytest.raises(DeserializationError, match=re.escape(message)) as info:
        deserialize_arguments([{"_aj": "gid", "v": value}], {})
    assert not isinstance(info.value, RecordNotFound)


# -- jobs ------------------------------------------------------------------------------


@discard_on(RecordNotFound)
class GreetJob(Job):
    def perform(self, account: Account, *, note: str = "") -> str:
        performed.append((account.name, note))
        return f"hello {account.name}"

    @after_discard
    def gone(self, exc: BaseException) -> None:
        discarded.append(exc)


@retry_on(ConnectionError, wait=0, attempts=3, jitter=0)
@discard_on(RecordNotFound)
class PatientGreetJob(GreetJob):
    pass


def payload_for(job_cls: type[Job], *args: Any, **kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(job_cls(*args, **kwargs).serialize()))
    return data


def test_execute_loads_the_record_then_performs() -> None:
    payload = payload_for(GreetJob, Account.create(1, "ann"), note="hi")
    assert payload["arguments"] == [{"_aj": "gid", "v": GID}]
    Account.store.rows["1"]["name"] = "anne"
    assert activejob.execute(payload) == "hello anne"
    assert performed == [("anne", "hi")]


def test_a_deleted_record_is_discarded_by_discard_on() -> None:
    payload = payload_for(GreetJob, Account.create(1, "ann"))
    del Account.store.rows["1"]
    outcome = run(payload)
    assert outcome.kind == "discarded"
    assert isinstance(outcome.exception, RecordNotFound)
    assert performed == []
    assert [str(e) for e in discarded] == [f"record not found: {GID}"]
    assert activejob.execute(payload) is None


def test_a_lookup_outage_is_not_discarded_the_job_fails() -> None:
    payload = payload_for(GreetJob, Account.create(1, "ann"))
    Account.store.down = True
    outcome = run(payload)
    assert outcome.kind == "failed"
    assert isinstance(outcome.exception, ConnectionError)
    assert performed == []
    with pytest.raises(ConnectionError):
        activejob.execute(payload)


def test_a_lookup_outage_is_retried_by_retry_on_then_runs() -> None:
    activejob.configure(adapter="test:")
    adapter = activejob.adapters.cache.resolve_adapter()
    assert isinstance(adapter, TestAdapter)
    PatientGreetJob.perform_later(Account.create(1, "ann"))
    Account.store.down = True
    adapter.perform_enqueued_jobs()
    first = adapter.performed_jobs[0].outcome
    assert first is not None and first.kind == "retry"
    assert isinstance(first.exception, ConnectionError)
    assert len(adapter.enqueued_jobs) == 1  # the retry is enqueued
    Account.store.down = False
    adapter.perform_enqueued_jobs()
    assert performed == [("ann", "")]
    assert discarded == []


def test_through_the_test_adapter_a_record_deleted_before_the_run_is_dropped() -> None:
    activejob.configure(adapter="test:")
    adapter = activejob.adapters.cache.resolve_adapter()
    assert isinstance(adapter, TestAdapter)
    GreetJob.perform_later(Account.create(1, "ann"))
    GreetJob.perform_later(Account.create(2, "bob"))
    del Account.store.rows["1"]
    assert adapter.perform_enqueued_jobs() == 2
    assert [r.outcome.kind for r in adapter.performed_jobs if r.outcome] == [
        "discarded",
        "succeeded",
    ]
    assert performed == [("bob", "")]


def test_a_job_without_discard_on_fails_with_record_not_found() -> None:
    @activejob.job
    def plain(account: Account) -> None:
        performed.append(account)

    payload = json.loads(json.dumps(plain.job_class(Account.create(1, "ann")).serialize()))
    del Account.store.rows["1"]
    with pytest.raises(RecordNotFound):
        activejob.execute(payload)


# -- staying light ---------------------------------------------------------------------


def test_import_activejob_imports_no_orm_even_when_encoding_objects() -> None:
    code = textwrap.dedent(
        """
        import sys
        import activejob
        from activejob.arguments import serialize
        try:
            serialize(object())
        except activejob.SerializationError:
            pass
        loaded = [m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "django")]
        loaded += [m for m in sys.modules if m.startswith("activejob.globalid.") and
                   m.rsplit(".", 1)[1] in ("sqlalchemy", "django")]
        print(loaded)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_an_unusable_orm_version_is_skipped_with_a_reason() -> None:
    code = textwrap.dedent(
        """
        import sys, types
        sys.modules["sqlalchemy"] = types.ModuleType("sqlalchemy")  # not a usable version
        import activejob
        from activejob.arguments import serialize
        from activejob.globalid import GlobalID
        for value in (object(), [1, object()]):
            try:
                serialize(value)
            except activejob.SerializationError as exc:
                print("refused:", "is not supported" in str(exc))
        try:
            GlobalID.create(object())
        except ValueError as exc:
            print("reason:", "activejob.globalid.sqlalchemy cannot be used" in str(exc))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split("\n") == ["refused: True", "refused: True", "reason: True", ""]
