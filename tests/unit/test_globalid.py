"""GlobalID values (parse, format, equality), registering Locatable classes,
locate / locate_many, and locators per app."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

import activejob
from activejob import ConfigurationError, RecordNotFound
from activejob.globalid import (
    GlobalID,
    InvalidGlobalID,
    Locatable,
    Locator,
    ModelNotAllowed,
    UnknownModel,
    locate,
    locate_many,
    locator_for,
    register_locator,
    register_model,
    registered_models,
    unregister_locator,
    unregister_model,
)
from activejob.globalid.locators import DEFAULT_LOCATOR
from tests.globalid.support import Account, Ticket, Unregistered


@pytest.fixture(autouse=True)
def models() -> Iterator[None]:
    # Models other test modules registered at import (the mail tests' user) stay:
    # forget only what these tests added, and put back what they removed.
    before = registered_models()
    register_model(Account, name="Account")
    register_model(Ticket)
    Account.store.reset()
    Ticket.store.reset()
    yield
    for name in set(registered_models()) - set(before):
        unregister_model(name)
    for name, cls in before.items():
        if registered_models().get(name) is not cls:
            register_model(cls, name=name)
    for app in ("billing", "legacy"):
        unregister_locator(app)


TICKET = "tests.globalid.support.Ticket"


# -- the value --------------------------------------------------------------------------


def test_format_and_parts() -> None:
    gid = GlobalID("shop", "shop.User", "42")
    assert str(gid) == "gid://shop/shop.User/42"
    assert repr(gid) == "GlobalID('gid://shop/shop.User/42')"
    assert (gid.app, gid.model_name, gid.model_id) == ("shop", "shop.User", "42")
    assert gid.model_id_parts == ("42",)


def test_parse_is_the_mirror_of_str() -> None:
    gid = GlobalID.parse("gid://shop/shop.User/42")
    assert gid == GlobalID("shop", "shop.User", "42")
    assert GlobalID.parse(gid) is gid


def test_app_names_ignore_case() -> None:
    assert GlobalID("MyShop", "M", "1") == GlobalID.parse("gid://myshop/M/1")
    assert GlobalID("MyShop", "M", "1").app == "myshop"


def test_equality_and_hash() -> None:
    a, b = GlobalID("shop", "M", "1"), GlobalID.parse("gid://shop/M/1")
    assert a == b and hash(a) == hash(b)
    assert len({a, b, GlobalID("shop", "M", "2"), GlobalID("other", "M", "1")}) == 3
    assert a != GlobalID("shop", "N", "1")
    assert a != "gid://shop/M/1"


@pytest.mark.parametrize(
    ("model_id", "text"),
    [
        ("a/b", "a%2Fb"),
        ("two words", "two%20words"),
        ("1+1", "1%2B1"),
        ("100%", "100%25"),
        ("é", "%C3%A9"),
        ("a?b#c", "a%3Fb%23c"),
    ],
)
def test_ids_are_escaped(model_id: str, text: str) -> None:
    gid = GlobalID("shop", "M", model_id)
    assert str(gid) == f"gid://shop/M/{text}"
    assert GlobalID.parse(str(gid)).model_id == model_id


def test_composite_ids_are_one_segment_per_part() -> None:
    gid = GlobalID("shop", "shop.Item", ("7", "en/GB"))
    assert str(gid) == "gid://shop/shop.Item/7/en%2FGB"
    assert GlobalID.parse(str(gid)).model_id == ("7", "en/GB")
    assert gid.model_id_parts == ("7", "en/GB")
    # An escaped slash is one id; a real slash separates parts.
    assert GlobalID.parse("gid://shop/M/1%2F2").model_id == "1/2"
    assert GlobalID.parse("gid://shop/M/1/2").model_id == ("1", "2")


def test_a_one_part_tuple_is_a_plain_id() -> None:
    assert GlobalID("shop", "M", ("5",)) == GlobalID("shop", "M", "5")
    assert GlobalID("shop", "M", ("5",)).model_id == "5"


def test_rails_plus_means_space() -> None:
    assert GlobalID.parse("gid://bcx/Person/John+Smith").model_id == "John Smith"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "gid://",
        "gid://shop",
        "gid://shop/M",
        "gid://shop/M/",
        "gid://shop//1",
        "gid:///M/1",
        "https://shop/M/1",
        "gid://shop/M/1?database=replica",
        "gid://shop/M/1#x",
        "gid://my_shop/M/1",
        "gid://shop/1Model/1",
        "gid://shop/M/%FF",
        "gid://shop/M/" + "/".join(["1"] * 21),
        "gid://shop/M/1//2",
    ],
)
def test_parse_refuses_what_is_not_a_globalid(text: str) -> None:
    with pytest.raises(InvalidGlobalID):
        GlobalID.parse(text)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidGlobalID, match="is text, not int"):
        GlobalID.parse(5)  # type: ignore[arg-type]


def test_invalid_is_a_value_error_with_the_text() -> None:
    with pytest.raises(ValueError, match="'https://x/M/1' is not a GlobalID"):
        GlobalID.parse("https://x/M/1")


@pytest.mark.parametrize(
    ("app", "model", "model_id"),
    [
        ("shop", "M", ""),
        ("shop", "M", None),
        ("shop", "M", 5),
        ("shop", "M", ()),
        ("shop", "M", tuple(str(i) for i in range(21))),
        ("shop", "M", ("1", "")),
        ("shop", "M", "\ud800"),
        ("shop", "a/b", "1"),
        ("shop", "", "1"),
        ("sh op", "M", "1"),
        ("-shop", "M", "1"),
    ],
)
def test_constructor_checks_every_part(app: Any, model: Any, model_id: Any) -> None:
    with pytest.raises(InvalidGlobalID):
        GlobalID(app, model, model_id)


def test_twenty_parts_are_allowed() -> None:
    parts = tuple(str(i) for i in range(20))
    assert GlobalID.parse(str(GlobalID("shop", "M", parts))).model_id == parts


@given(
    app=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    model=st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:-]{0,30}", fullmatch=True),
    parts=st.lists(
        st.text(st.characters(exclude_categories=["Cs"]), min_size=1), min_size=1, max_size=20
    ),
)
def test_any_globalid_round_trips_through_its_text(app: str, model: str, parts: list[str]) -> None:
    gid = GlobalID(app, model, tuple(parts))
    text = str(gid)
    assert text.isascii()
    assert GlobalID.parse(text) == gid


# -- create and registering ----------------------------------------------------------


def test_create_uses_the_configured_app_and_the_registered_name() -> None:
    account = Account(7, "ann")
    assert str(GlobalID.create(account)) == "gid://activejob/Account/7"
    activejob.configure(app="Shop")
    assert str(GlobalID.create(account)) == "gid://shop/Account/7"
    assert str(GlobalID.create(account, app="other")) == "gid://other/Account/7"


def test_default_name_is_module_and_qualname_and_composite_ids_are_kept() -> None:
    gid = GlobalID.create(Ticket("gala", 12))
    assert str(gid) == f"gid://activejob/{TICKET}/gala/12"
    assert gid.model_id == ("gala", "12")


def test_create_refuses_a_bad_configured_app() -> None:
    activejob.configure(app="my shop")
    with pytest.raises(ConfigurationError, match="setting `app`"):
        GlobalID.create(Account(1, "a"))


@pytest.mark.parametrize("missing", [None, ""])
def test_create_refuses_a_record_without_id(missing: Any) -> None:
    with pytest.raises(InvalidGlobalID, match="has no id yet"):
        GlobalID.create(Account(missing, "unsaved"))


def test_create_refuses_an_unregistered_class_and_says_how() -> None:
    with pytest.raises(
        InvalidGlobalID, match=r"register it with activejob\.globalid\.register_model"
    ):
        GlobalID.create(Unregistered(1))
    with pytest.raises(InvalidGlobalID, match="cannot have a GlobalID"):
        GlobalID.create(object())


def test_a_subclass_of_a_registered_class_must_register_itself() -> None:
    class Admin(Account):
        pass

    with pytest.raises(InvalidGlobalID, match="is not registered itself"):
        GlobalID.create(Admin(1, "root"))
    register_model(Admin, name="Admin")
    assert str(GlobalID.create(Admin(1, "root"))) == "gid://activejob/Admin/1"


class Plain:
    id = 1

    @classmethod
    def locate(cls, id: str) -> Any:
        return None


def test_register_model_forms() -> None:
    assert register_model(Plain) is Plain
    assert registered_models()[f"{__name__}.Plain"] is Plain

    @register_model(name="Named")
    class Named(Plain):
        pass

    assert registered_models()["Named"] is Named
    assert isinstance(Named(), Locatable)


class Invoice(Locatable):
    """Subclasses Locatable and sets its own id."""

    def __init__(self, id: int, total: int) -> None:
        self.id = id
        self.total = total

    @classmethod
    def locate(cls, id: str) -> Invoice | None:
        return cls(int(id), 990) if id.isdigit() else None


@dataclass
class Receipt(Locatable):
    id: int
    note: str = ""

    @classmethod
    def locate(cls, id: str) -> Receipt | None:
        return cls(int(id), "located")


@dataclass(frozen=True)
class FrozenReceipt(Locatable):
    id: tuple[str, int]

    @classmethod
    def locate(cls, id: tuple[str, str]) -> FrozenReceipt:
        return cls((id[0], int(id[1])))


def test_a_subclass_of_locatable_sets_its_own_id() -> None:
    invoice = Invoice(7, 100)
    assert invoice.id == 7
    invoice.id = 8
    assert invoice.id == 8
    assert Receipt(3).id == 3 and FrozenReceipt(("acme", 4)).id == ("acme", 4)
    for record in (invoice, Receipt(3), FrozenReceipt(("acme", 4))):
        assert isinstance(record, Locatable)
    activejob.configure(app="shop")
    for cls in (Invoice, Receipt, FrozenReceipt):
        register_model(cls)
    assert str(GlobalID.create(invoice)) == f"gid://shop/{__name__}.Invoice/8"
    located = locate(GlobalID.create(invoice))
    assert isinstance(located, Invoice) and (located.id, located.total) == (8, 990)
    assert locate(GlobalID.create(Receipt(3))) == Receipt(3, "located")
    assert locate(GlobalID.create(FrozenReceipt(("acme", 4)))) == FrozenReceipt(("acme", 4))


def test_structural_locatables_still_match() -> None:
    class ReadOnlyId:
        @property
        def id(self) -> int:
            return 5

        @classmethod
        def locate(cls, id: str) -> Any:
            return None

    class NoId:
        @classmethod
        def locate(cls, id: str) -> Any:
            return None

    assert isinstance(ReadOnlyId(), Locatable)
    assert isinstance(Plain(), Locatable)
    assert not isinstance(NoId(), Locatable)
    assert not isinstance(object(), Locatable)


def test_register_model_refuses_what_cannot_work() -> None:
    def make() -> type:
        class Local:
            @classmethod
            def locate(cls, id: str) -> Any:
                return None

        return Local

    with pytest.raises(ValueError, match="inside a function"):
        register_model(make())
    with pytest.raises(TypeError, match="not a Locatable class"):
        register_model(Unregistered(1))  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="class-level locate"):
        register_model(dict)
    with pytest.raises(InvalidGlobalID):
        register_model(Unregistered, name="not/valid")
    with pytest.raises(ValueError, match="already used"):
        register_model(Unregistered, name="Account")


def test_registering_again_renames_and_unregister_forgets() -> None:
    register_model(Account, name="Customer")
    assert "Account" not in registered_models()
    assert str(GlobalID.create(Account(1, "a"))) == "gid://activejob/Customer/1"
    unregister_model(Account)
    with pytest.raises(InvalidGlobalID):
        GlobalID.create(Account(1, "a"))


# -- locate ---------------------------------------------------------------------------


def test_locate_loads_a_fresh_record_by_text_or_value() -> None:
    Account.create(5, "ann")
    found = locate("gid://activejob/Account/5")
    assert isinstance(found, Account) and found.name == "ann"
    Account.store.rows["5"]["name"] = "anne"
    assert GlobalID.parse("gid://activejob/Account/5").locate().name == "anne"
    assert Account.store.calls == [("locate", "5"), ("locate", "5")]  # ids arrive as text


def test_composite_ids_reach_locate_as_a_tuple_of_text() -> None:
    Ticket.create("gala", 12)
    found = locate(GlobalID.create(Ticket("gala", 12)))
    assert (found.event, found.seat) == ("gala", 12)
    assert Ticket.store.calls == [("locate", ("gala", "12"))]


def test_missing_record_raises_record_not_found_naming_the_gid() -> None:
    with pytest.raises(RecordNotFound, match="gid://activejob/Account/404"):
        locate("gid://activejob/Account/404")


def test_unknown_model_is_not_record_not_found() -> None:
    with pytest.raises(UnknownModel, match=r"unknown model 'Nope'.*register_model") as info:
        locate("gid://activejob/Nope/1")
    assert not isinstance(info.value, RecordNotFound)


def test_names_resolve_only_through_the_registry() -> None:
    # A real importable class, named by module path but never registered.
    with pytest.raises(UnknownModel):
        locate("gid://activejob/tests.globalid.support.Unregistered/1")
    with pytest.raises(UnknownModel):
        locate("gid://activejob/os.system/1")


def test_a_failing_lookup_propagates_as_itself() -> None:
    Account.create(5, "ann")
    Account.store.down = True
    with pytest.raises(ConnectionError, match="store unreachable"):
        locate("gid://activejob/Account/5")


def test_only_refuses_other_models_before_any_lookup() -> None:
    Account.create(5, "ann")
    assert locate("gid://activejob/Account/5", only=Account).name == "ann"
    assert locate("gid://activejob/Account/5", only=(Ticket, Account)).name == "ann"
    with pytest.raises(ModelNotAllowed, match="names a Account, not one of: Ticket"):
        locate("gid://activejob/Account/5", only=Ticket)
    assert Account.store.calls == [("locate", "5"), ("locate", "5")]
    with pytest.raises(TypeError):
        locate("gid://activejob/Account/5", only=())


# -- locate_many ------------------------------------------------------------------------


def test_locate_many_keeps_order_and_batches_per_model() -> None:
    for seat in (1, 2, 3):
        Ticket.create("gala", seat)
    Account.create(1, "ann")
    gids = [
        f"gid://activejob/{TICKET}/gala/3",
        "gid://activejob/Account/1",
        f"gid://activejob/{TICKET}/gala/1",
        f"gid://activejob/{TICKET}/gala/3",
        f"gid://activejob/{TICKET}/gala/2",
    ]
    found = locate_many(gids)
    assert [getattr(r, "seat", None) or r.name for r in found] == [3, "ann", 1, 3, 2]
    # One batch call for the tickets (duplicates asked once), one locate for the account.
    assert Ticket.store.calls == [("locate_many", [("gala", "3"), ("gala", "1"), ("gala", "2")])]
    assert Account.store.calls == [("locate", "1")]


def test_locate_many_raises_for_missing_records_naming_them_all() -> None:
    Account.create(1, "ann")
    gids = ["gid://activejob/Account/1", "gid://activejob/Account/2", "gid://activejob/Account/3"]
    with pytest.raises(RecordNotFound) as info:
        locate_many(gids)
    assert "gid://activejob/Account/2" in str(info.value)
    assert "gid://activejob/Account/3" in str(info.value)
    assert [a.name for a in locate_many(gids, ignore_missing=True)] == ["ann"]
    assert locate_many([]) == []


def test_locate_many_only_and_errors() -> None:
    Account.create(1, "ann")
    Ticket.create("gala", 1)
    with pytest.raises(ModelNotAllowed):
        locate_many(["gid://activejob/Account/1", f"gid://activejob/{TICKET}/gala/1"], only=Account)
    assert Ticket.store.calls == []
    Account.store.down = True
    with pytest.raises(ConnectionError):
        locate_many(["gid://activejob/Account/1"], ignore_missing=True)


class Parsed:
    """A Locatable whose lookups parse the id (as a database does), with a batch method."""

    rows: ClassVar[dict[Any, str]] = {}
    calls: ClassVar[list[tuple[str, Any]]] = []
    parse: ClassVar[Callable[[str], Any]] = int

    def __init__(self, id: Any) -> None:
        self.id = id

    @classmethod
    def locate(cls, id: str) -> Parsed | None:
        cls.calls.append(("locate", id))
        return cls(cls.parse(id)) if cls.parse(id) in cls.rows else None

    @classmethod
    def locate_many(cls, ids: list[str]) -> list[Parsed]:
        cls.calls.append(("locate_many", ids))
        return [cls(cls.parse(id)) for id in ids if cls.parse(id) in cls.rows]


DEVICE = uuid.UUID("6f1c2a9e-0b4d-4e8a-9c3f-5d7e8f9a0b1c")


@pytest.mark.parametrize(
    ("parse", "key", "canonical", "other_spelling", "missing"),
    [
        (int, 7, "7", "007", "8"),
        (uuid.UUID, DEVICE, str(DEVICE), str(DEVICE).upper(), str(uuid.UUID(int=0))),
    ],
)
def test_locate_many_finds_what_locate_finds_however_the_id_is_written(
    parse: Callable[[str], Any], key: Any, canonical: str, other_spelling: str, missing: str
) -> None:
    register_model(Parsed, name="Parsed")
    Parsed.parse, Parsed.rows, Parsed.calls = parse, {key: "row"}, []
    gids = [f"gid://activejob/Parsed/{other_spelling}", f"gid://activejob/Parsed/{canonical}"]
    assert locate(gids[0]).id == key
    Parsed.calls = []
    assert [record.id for record in locate_many(gids)] == [key, key]
    # One batch; locate() only for the id the batch's records did not match by text.
    assert Parsed.calls == [
        ("locate_many", [other_spelling, canonical]),
        ("locate", other_spelling),
    ]
    with pytest.raises(RecordNotFound) as info:
        locate_many([*gids, f"gid://activejob/Parsed/{missing}"])
    assert str(info.value) == f"records not found: gid://activejob/Parsed/{missing}"


# -- locators --------------------------------------------------------------------------


def test_a_function_locator_per_app() -> None:
    seen: list[GlobalID] = []

    @register_locator("Billing")
    def billing(gid: GlobalID) -> Any:
        seen.append(gid)
        return {"invoice": gid.model_id} if gid.model_id != "0" else None

    assert billing.__name__ == "billing"  # the decorator returns the function
    assert locate("gid://billing/Invoice/9") == {"invoice": "9"}
    with pytest.raises(RecordNotFound):
        locate("gid://billing/Invoice/0")
    Account.create(1, "ann")
    assert locate("gid://activejob/Account/1").name == "ann"  # other apps: the default
    assert locate_many(["gid://billing/Invoice/1", "gid://activejob/Account/1"])[0] == {
        "invoice": "1"
    }
    assert [str(g) for g in seen] == [
        "gid://billing/Invoice/9",
        "gid://billing/Invoice/0",
        "gid://billing/Invoice/1",
    ]
    unregister_locator("billing")
    assert locator_for("billing") is DEFAULT_LOCATOR


def test_the_default_locator_ignores_the_app_name_as_rails_does() -> None:
    Account.create(1, "ann")
    assert locate("gid://elsewhere/Account/1").name == "ann"
    assert [a.name for a in locate_many(["gid://elsewhere/Account/1"])] == ["ann"]
    assert locator_for("elsewhere") is DEFAULT_LOCATOR


def test_a_locator_class_with_batches_and_only_after_loading() -> None:
    class Legacy(Locator):
        def __init__(self) -> None:
            self.batches: list[list[str]] = []

        def locate(self, gid: GlobalID) -> Any:
            raise AssertionError("locate_many is used")

        def locate_many(self, gids: Any) -> list[Any]:
            self.batches.append([str(g) for g in gids])
            return [Account(g.model_id, "legacy") for g in gids]

    legacy = Legacy()
    assert register_locator("legacy", legacy) is legacy
    found = locate_many(["gid://legacy/A/1", "gid://legacy/A/2"], only=Account)
    assert [a.id for a in found] == ["1", "2"]
    assert legacy.batches == [["gid://legacy/A/1", "gid://legacy/A/2"]]
    with pytest.raises(ModelNotAllowed):  # class unknown before loading: checked after
        locate_many(["gid://legacy/A/1"], only=Ticket)


def test_a_locator_that_returns_the_wrong_count_is_an_error() -> None:
    class Broken(Locator):
        def locate(self, gid: GlobalID) -> Any:
            return None

        def locate_many(self, gids: Any) -> list[Any]:
            return []

    register_locator("legacy", Broken())
    with pytest.raises(TypeError, match="returned 0 results for 1"):
        locate_many(["gid://legacy/A/1"])


def test_register_locator_checks_its_arguments() -> None:
    with pytest.raises(InvalidGlobalID):
        register_locator("not an app", lambda gid: None)
    with pytest.raises(TypeError):
        register_locator("legacy", 42)  # type: ignore[call-overload]
