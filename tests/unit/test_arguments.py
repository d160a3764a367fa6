"""The argument encoding: exact round trips through real JSON, the wire format,
errors that name the culprit, custom serializers, and refusing bad payloads."""

from __future__ import annotations

import collections
import enum
import json
import sys
import types
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest

from activejob.arguments import (
    deserialize,
    deserialize_arguments,
    serialize,
    serialize_arguments,
)
from activejob.errors import DeserializationError, SerializationError
from activejob.serializers import ObjectSerializer, register, unregister

HINT = "register a serializer with activejob.serializers.register(...)"


def through_json(value: Any) -> Any:
    """serialize → strict JSON text → deserialize."""
    return deserialize(json.loads(json.dumps(serialize(value), allow_nan=False)))


def args_through_json(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    args_json, kwargs_json = serialize_arguments(args, kwargs)
    text = json.dumps([args_json, kwargs_json], allow_nan=False)
    loaded_args, loaded_kwargs = json.loads(text)
    return deserialize_arguments(loaded_args, loaded_kwargs)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Bits(enum.IntFlag):
    A = 1
    B = 2


_StrEnum: Any = getattr(enum, "StrEnum", None)
Mode: Any = None
if _StrEnum is not None:

    class Mode(_StrEnum):  # type: ignore[no-redef,misc]
        FAST = "fast"


class Outer:
    class Inner(enum.Enum):
        ONE = 1


class Point(NamedTuple):
    x: int
    y: int


class Session:
    pass


class Money:
    def __init__(self, amount: Decimal, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self.amount, self.currency) == (
            other.amount,
            other.currency,
        )

    __hash__ = None  # type: ignore[assignment]


class MoneySerializer(ObjectSerializer):
    klass = Money

    def serialize(self, value: Money) -> Any:
        return [value.amount, value.currency]

    def deserialize(self, data: Any) -> Money:
        amount, currency = data
        return Money(amount, currency)


@pytest.fixture
def money() -> Iterator[None]:
    register(MoneySerializer)
    yield
    unregister(MoneySerializer)


# -- plain JSON is stored as itself -----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2**63 - 1, -(2**63), 1.5, -0.0, 1e308, "", "héllo", "_aj"],
)
def test_plain_scalars_are_stored_as_themselves(value: Any) -> None:
    encoded = serialize(value)
    assert encoded is value or (type(encoded) is type(value) and encoded == value)
    back = through_json(value)
    assert type(back) is type(value)
    assert back == value


def test_negative_zero_keeps_its_sign() -> None:
    back = through_json(-0.0)
    assert type(back) is float and str(back) == "-0.0"


def test_plain_containers_are_stored_as_json() -> None:
    value = {"a": [1, "x", None, {"b": [True, 2.5]}], "c": {}}
    assert serialize(value) == value
    back = through_json(value)
    assert back == value and type(back["a"]) is list and type(back["c"]) is dict


def test_str_keyed_dict_keeps_key_order() -> None:
    value = {"z": 1, "a": 2, "m": 3}
    assert list(through_json(value)) == ["z", "a", "m"]


# -- tagged values -----------------------------------------------------------------


def test_tuples_stay_tuples_even_nested() -> None:
    value = (1, (2, (3,)), [4, (5,)], {"k": (6,)})
    back = through_json(value)
    assert back == value
    assert type(back) is tuple and type(back[1]) is tuple and type(back[1][1]) is tuple
    assert type(back[2]) is list and type(back[2][1]) is tuple and type(back[3]["k"]) is tuple
    assert serialize((1,)) == {"_aj": "tuple", "v": [1]}


def test_empty_containers() -> None:
    empties: list[Any] = [(), [], {}, set(), frozenset()]
    for value in empties:
        back = through_json(value)
        assert type(back) is type(value) and back == value


@pytest.mark.parametrize(
    "value",
    [
        {1: "one", 2: "two"},
        {None: 1, "x": 2},
        {(1, 2): "pair", (3, (4,)): "nested"},
        {True: "t", 2.5: "f", Color.RED: "enum", date(2024, 1, 1): "d"},
        {frozenset({1}): "fs", uuid.UUID(int=5): "u"},
    ],
)
def test_dicts_with_non_str_keys_keep_their_keys(value: dict[Any, Any]) -> None:
    back = through_json(value)
    assert back == value
    assert list(back) == list(value)  # order preserved
    for original, key in zip(value, back, strict=True):
        assert type(key) is type(original)


def test_non_str_keys_use_the_pair_form() -> None:
    assert serialize({1: "a", "b": 2}) == {"_aj": "dict", "v": [[1, "a"], ["b", 2]]}


def test_dict_with_the_reserved_key_is_not_mistaken_for_a_tagged_value() -> None:
    value = {"_aj": "tuple", "v": [1, 2]}
    encoded = serialize(value)
    assert encoded["_aj"] == "dict"
    back = through_json(value)
    assert back == value and type(back) is dict and type(back["v"]) is list


def test_sets_and_frozensets() -> None:
    value = [{1, 2, 3}, frozenset({"a", (1, 2)}), {frozenset({1}), None}]
    back = through_json(value)
    assert back == value
    assert [type(x) for x in back] == [set, frozenset, set]
    assert type(next(iter(back[2] - {None}))) is frozenset


def test_set_payload_is_deterministic() -> None:
    assert serialize({"b", "c", "a"}) == {"_aj": "set", "v": ["a", "b", "c"]}
    mixed = [3, "x", (1, 2), None, 2.5]
    forward = serialize(set(mixed))
    backward = serialize(set(reversed(mixed)))
    assert forward == backward


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**200, -(10**40)])
def test_big_ints_are_tagged_and_exact(value: int) -> None:
    assert serialize(value)["_aj"] == "int"
    back = through_json(value)
    assert type(back) is int and back == value


def test_ints_beyond_the_decimal_digit_limit_round_trip() -> None:
    value = 7**6000  # more than 4300 decimal digits: json.dumps alone would refuse it
    back = through_json(value)
    assert type(back) is int and back == value


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_floats(text: str) -> None:
    value = float(text)
    assert serialize(value) == {"_aj": "float", "v": text}
    back = through_json(value)
    assert type(back) is float
    assert str(back) == str(value)


def test_bool_is_not_int_and_int_enum_is_not_int() -> None:
    back = through_json([True, 1, Level.HIGH])
    assert back[0] is True and type(back[1]) is int and back[2] is Level.HIGH
    assert serialize(Level.HIGH)["_aj"] == "enum"


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 5, 1, 12, 0, 0, 1),
        datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=PARIS),
        datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1),  # the repeated hour, 2nd time
        datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=0),
        datetime(2024, 3, 31, 2, 30, tzinfo=PARIS),  # a wall time that does not exist
        datetime(2024, 5, 1, tzinfo=ZoneInfo("America/New_York")),
        datetime(2024, 5, 1, tzinfo=timezone.utc),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=5), "PKT")),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(seconds=30, microseconds=7))),
        datetime(1, 1, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
    ],
    ids=repr,
)
def test_datetimes_round_trip_exactly(value: datetime) -> None:
    back = through_json(value)
    assert type(back) is datetime
    assert back.replace(tzinfo=None) == value.replace(tzinfo=None)  # the same wall time
    assert back.fold == value.fold
    assert back.utcoffset() == value.utcoffset()
    if value.tzinfo is None:
        assert back.tzinfo is None
    elif isinstance(value.tzinfo, ZoneInfo):
        assert isinstance(back.tzinfo, ZoneInfo) and back.tzinfo.key == value.tzinfo.key
    else:
        assert type(back.tzinfo) is timezone and back.tzinfo == value.tzinfo
        assert back.tzname() == value.tzname()


def test_utc_comes_back_as_the_utc_singleton() -> None:
    assert through_json(datetime(2024, 1, 1, tzinfo=timezone.utc)).tzinfo is timezone.utc


def test_datetime_wire_format() -> None:
    value = datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=PARIS)
    assert serialize(value) == {
        "_aj": "datetime",
        "v": "2024-05-01T12:00:00.000001+02:00",
        "tz": "Europe/Paris",
    }
    assert serialize(datetime(2024, 5, 1)) == {"_aj": "datetime", "v": "2024-05-01T00:00:00"}


@pytest.mark.parametrize(
    "value",
    [
        time(12, 30, 5, 123),
        time(0, 0),
        time(23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
        time(8, tzinfo=timezone(timedelta(hours=-1), "AZOT")),
        time(1, tzinfo=timezone.utc, fold=1),
        time(9, 15, tzinfo=PARIS),
    ],
    ids=repr,
)
def test_times_round_trip_exactly(value: time) -> None:
    back = through_json(value)
    assert type(back) is time
    assert back.replace(tzinfo=None) == value.replace(tzinfo=None)
    assert back.fold == value.fold
    assert back.tzinfo == value.tzinfo
    assert back.tzname() == value.tzname()


def test_dates_and_timedeltas() -> None:
    values = [date(2024, 2, 29), date.min, timedelta(days=-3, microseconds=7), timedelta.max]
    back = through_json(values)
    assert back == values
    assert [type(x) for x in back] == [date, date, timedelta, timedelta]
    assert serialize(timedelta(days=1, seconds=2, microseconds=3)) == {
        "_aj": "timedelta",
        "v": [1, 2, 3],
    }


def test_datetime_is_not_mistaken_for_a_date() -> None:
    assert type(through_json(datetime(2024, 1, 1))) is datetime
    assert type(through_json(date(2024, 1, 1))) is date


@pytest.mark.parametrize(
    "text",
    [
        "1.10",
        "0.000",
        "-0",
        "1E+2",
        "123456789012345678901234567890.123",
        "NaN",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
    ],
)
def test_decimals_keep_every_digit(text: str) -> None:
    back = through_json(Decimal(text))
    assert type(back) is Decimal and str(back) == text


def test_uuid() -> None:
    value = uuid.uuid4()
    assert serialize(value) == {"_aj": "uuid", "v": str(value)}
    back = through_json(value)
    assert type(back) is uuid.UUID and back == value


@pytest.mark.parametrize(
    "value",
    [Path("/srv/data.csv"), Path("relative/x"), PurePosixPath("/a/b"), PureWindowsPath(r"C:\x\y")],
    ids=repr,
)
def test_paths_come_back_as_the_same_class(value: PurePath) -> None:
    back = through_json(value)
    assert type(back) is type(value) and back == value


@pytest.mark.parametrize(
    "member",
    [Color.RED, Level.LOW, Perm.R, Perm.R | Perm.W, Perm(0), Bits.A | Bits.B, Outer.Inner.ONE],
    ids=repr,
)
def test_enum_members_come_back_as_the_same_object(member: enum.Enum) -> None:
    assert through_json(member) is member


@pytest.mark.skipif(Mode is None, reason="StrEnum is Python 3.11+")
def test_str_enum_member_is_not_a_str() -> None:
    assert serialize(Mode.FAST)["_aj"] == "enum"
    back = through_json({Mode.FAST: 1})
    assert next(iter(back)) is Mode.FAST


def test_enum_wire_format() -> None:
    assert serialize(Color.RED) == {
        "_aj": "enum",
        "module": __name__,
        "qualname": "Color",
        "v": "RED",
    }
    assert serialize(Perm.R | Perm.X)["v"] == 5


# -- arguments ---------------------------------------------------------------------


def test_serialize_arguments_returns_json_ready_list_and_dict() -> None:
    args_json, kwargs_json = serialize_arguments((1, (2,)), {"at": date(2024, 1, 1)})
    assert args_json == [1, {"_aj": "tuple", "v": [2]}]
    assert kwargs_json == {"at": {"_aj": "date", "v": "2024-01-01"}}
    json.dumps([args_json, kwargs_json], allow_nan=False)


def test_arguments_round_trip() -> None:
    when = datetime(2024, 5, 1, tzinfo=PARIS)
    args, kwargs = args_through_json(1, "a", (2, 3), when=when, tags={"x"}, _aj={"k": 1})
    assert args == (1, "a", (2, 3)) and type(args) is tuple and type(args[2]) is tuple
    assert kwargs == {"when": when, "tags": {"x"}, "_aj": {"k": 1}}
    assert kwargs["when"].tzinfo.key == "Europe/Paris"


def test_arguments_accept_a_list_of_positional_arguments() -> None:
    assert serialize_arguments([1, 2], {}) == ([1, 2], {})


def test_encoding_does_not_share_mutable_containers() -> None:
    inner = [1, 2]
    args_json, _ = serialize_arguments(({"k": inner},), {})
    args_json[0]["k"].append(3)
    assert inner == [1, 2]
    decoded_args, _ = deserialize_arguments(args_json, {})
    decoded_args[0]["k"].append(4)
    assert args_json[0]["k"] == [1, 2, 3]


# -- refusing values ---------------------------------------------------------------


def test_unsupported_positional_argument_is_named() -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments((1, Session()), {})
    assert str(info.value) == (
        f"argument 1 (positional) of type 'Session' is not supported; {HINT}"
    )


def test_unsupported_keyword_argument_is_named() -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments((), {"depth": 1, "user": Session()})
    assert str(info.value).startswith(
        "argument 'user' (keyword) of type 'Session' is not supported"
    )
    assert HINT in str(info.value)


def test_nested_unsupported_value_names_the_path() -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments(([0, 1, {"key": object()}],), {})
    assert str(info.value).startswith(
        "argument 0 (positional) at [2]['key'] of type 'object' is not supported"
    )


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ((1, (2, object())), "[1][1]"),
        ({1: {"a": object()}}, "[1]['a']"),
        ({(1, object()): "v"}, "<key 0>[1]"),
        ({"ok": 1, "bad": {object(): 1}}, "['bad']<key 0>"),
        ([{object()}], "[0]<element 0>"),
        ({"x": [1, 2, 3, lambda: 0]}, "['x'][3]"),
    ],
)
def test_paths_inside_containers(value: Any, path: str) -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments((), {"arg": value})
    assert str(info.value).startswith(f"argument 'arg' (keyword) at {path} of type ")


@pytest.mark.parametrize(
    ("value", "type_name", "base"),
    [
        (Point(1, 2), "Point", "tuple"),
        (collections.OrderedDict(a=1), "OrderedDict", "dict"),
        (collections.defaultdict(list), "defaultdict", "dict"),
        (type("Name", (str,), {})("x"), "Name", "str"),
    ],
)
def test_subclasses_of_supported_types_are_refused(value: Any, type_name: str, base: str) -> None:
    with pytest.raises(SerializationError) as info:
        serialize(value)
    message = str(info.value)
    assert message.startswith(f"value of type {type_name!r} is not supported")
    assert f"a subclass of {base!r}" in message


@pytest.mark.parametrize("value", [b"bytes", bytearray(b"x"), print, object(), 1j, range(3)])
def test_other_values_are_refused(value: Any) -> None:
    with pytest.raises(SerializationError, match="is not supported"):
        serialize(value)


class _Fixed(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "FIXED"


def test_unsupported_tzinfo_is_explained() -> None:
    with pytest.raises(SerializationError) as info:
        serialize_arguments((datetime(2024, 1, 1, tzinfo=_Fixed()),), {})
    message = str(info.value)
    assert message.startswith("argument 0 (positional) of type 'datetime' cannot be serialized")
    assert "tzinfo of type '_Fixed'" in message


def test_local_enum_is_refused_at_enqueue() -> None:
    class Local(enum.Enum):
        A = 1

    with pytest.raises(SerializationError, match="define it at module level"):
        serialize(Local.A)


def test_self_containing_list_is_refused() -> None:
    value: list[Any] = []
    value.append(value)
    with pytest.raises(
        SerializationError, match="argument 0 \\(positional\\) is nested too deeply"
    ):
        serialize_arguments((value,), {})


def test_keyword_names_must_be_str() -> None:
    with pytest.raises(SerializationError, match="must be str"):
        serialize_arguments((), {1: "x"})  # type: ignore[dict-item]


# -- custom serializers ------------------------------------------------------------


def test_custom_serializer_round_trip(money: None) -> None:
    value = Money(Decimal("1.10"), "EUR")
    encoded = serialize(value)
    assert encoded == {
        "_aj": f"{__name__}.MoneySerializer",
        "v": [{"_aj": "decimal", "v": "1.10"}, "EUR"],
    }
    args, kwargs = args_through_json([value], price=value)
    assert args == ([value],) and kwargs == {"price": value}
    assert str(kwargs["price"].amount) == "1.10"


def test_unregistered_type_is_refused_and_its_payload_unknown() -> None:
    register(MoneySerializer)
    payload = json.loads(json.dumps(serialize(Money(Decimal(1), "EUR"))))
    unregister(MoneySerializer)
    with pytest.raises(SerializationError, match="'Money' is not supported"):
        serialize(Money(Decimal(1), "EUR"))
    with pytest.raises(DeserializationError, match="unknown argument type"):
        deserialize(payload)


def test_register_is_idempotent_works_as_decorator_and_takes_instances() -> None:
    @register
    class TagSerializer(ObjectSerializer):
        name = "test.tag"
        klass = Session

        def serialize(self, value: Session) -> Any:
            return None

        def deserialize(self, data: Any) -> Session:
            return Session()

    try:
        assert register(TagSerializer) is TagSerializer
        instance = TagSerializer()
        assert register(instance) is instance
        assert type(through_json(Session())) is Session
        assert serialize(Session()) == {"_aj": "test.tag", "v": None}
    finally:
        unregister("test.tag")
    with pytest.raises(SerializationError):
        serialize(Session())


def test_register_refuses_conflicts_and_incomplete_serializers() -> None:
    class Taken(ObjectSerializer):
        name = "decimal"
        klass = Session

    class NoKlass(ObjectSerializer):
        pass

    with pytest.raises(ValueError, match="reserved"):
        register(Taken)
    with pytest.raises(TypeError, match="klass"):
        register(NoKlass)
    with pytest.raises(TypeError):
        register(object())  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="built-in"):
        unregister("tuple")

    class First(ObjectSerializer):
        name = "test.same-name"
        klass = Session

    class Second(ObjectSerializer):
        name = "test.same-name"
        klass = Money

    register(First)
    try:
        with pytest.raises(ValueError, match="already used"):
            register(Second)
    finally:
        unregister(First)


class ColorAsText(ObjectSerializer):
    klass = Color

    def serialize(self, value: Color) -> Any:
        return value.value

    def deserialize(self, data: Any) -> Color:
        return Color(data)


class HasToken:
    def __init__(self, token: str) -> None:
        self.token = token


class TokenHook(ObjectSerializer):
    """A hook serializer: matches by duck typing, like the GlobalID one will."""

    name = "test.token"

    def matches(self, value: Any) -> bool:
        return hasattr(value, "token")

    def serialize(self, value: Any) -> Any:
        return value.token

    def deserialize(self, data: Any) -> Any:
        return HasToken(data)


def test_custom_serializers_come_before_the_builtin_fallbacks() -> None:
    register(ColorAsText)
    try:
        assert serialize(Color.RED) == {"_aj": ColorAsText.name, "v": "red"}
        assert through_json(Color.GREEN) is Color.GREEN
    finally:
        unregister(ColorAsText)
    assert serialize(Color.RED)["_aj"] == "enum"


def test_exact_plain_types_are_never_handed_to_custom_serializers() -> None:
    class IntSerializer(ObjectSerializer):
        klass = int

        def serialize(self, value: int) -> Any:
            raise AssertionError("not reached")

    register(IntSerializer)
    try:
        assert serialize(5) == 5
    finally:
        unregister(IntSerializer)


def test_builtin_hook_with_matches() -> None:
    register(TokenHook, builtin=True)
    try:
        assert serialize(HasToken("abc")) == {"_aj": "test.token", "v": "abc"}
        assert through_json([HasToken("abc")])[0].token == "abc"
        # A user serializer for the same values wins over a builtin hook.
        register(MoneySerializer)

        class HasTokenMoney(Money, HasToken):
            pass

        assert serialize(HasTokenMoney(Decimal(1), "X"))["_aj"] == MoneySerializer.name
    finally:
        unregister(TokenHook)
        unregister(MoneySerializer)


def test_register_builtin_as_decorator_with_arguments() -> None:
    decorated = register(builtin=True)(TokenHook)
    try:
        assert decorated is TokenHook
        assert serialize(HasToken("t"))["_aj"] == "test.token"
    finally:
        unregister(TokenHook)


class Broken(ObjectSerializer):
    klass = Session

    def serialize(self, value: Session) -> Any:
        raise RuntimeError("boom")

    def deserialize(self, data: Any) -> Session:
        raise ValueError("bad data")


def test_failing_custom_serializer_becomes_a_serialization_error() -> None:
    register(Broken)
    try:
        with pytest.raises(SerializationError) as info:
            serialize_arguments((Session(),), {})
        assert "argument 0 (positional) of type 'Session' cannot be serialized" in str(info.value)
        assert "RuntimeError: boom" in str(info.value)
        assert isinstance(info.value.__cause__, RuntimeError)
        with pytest.raises(DeserializationError, match="ValueError: bad data"):
            deserialize({"_aj": Broken.name, "v": None})
    finally:
        unregister(Broken)


def test_unsupported_value_inside_custom_output_is_located(money: None) -> None:
    with pytest.raises(SerializationError) as info:
        serialize(Money(object(), "EUR"))  # type: ignore[arg-type]
    assert str(info.value).startswith(f"value at <via {MoneySerializer.name}>[0] of type 'object'")


# -- refusing payloads -------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"_aj": "nope", "v": 1}, "unknown argument type 'nope'"),
        ({"_aj": 3, "v": 1}, "must be a str"),
        ({"_aj": "tuple"}, "'v' must be a list"),
        ({"_aj": "set", "v": "ab"}, "'v' must be a list"),
        ({"_aj": "set", "v": [[1]]}, "unhashable"),
        ({"_aj": "dict", "v": [[1]]}, "pair"),
        ({"_aj": "dict", "v": [[[1], 2]]}, "unhashable"),
        ({"_aj": "dict", "v": {"a": 1}}, "list of pairs"),
        ({"_aj": "int", "v": "zz"}, "not a hexadecimal"),
        ({"_aj": "int", "v": 5}, "field 'v' must be str, got int"),
        ({"_aj": "float", "v": "NaN!"}, "not one of"),
        ({"_aj": "datetime"}, "field 'v' must be str, got nothing"),
        ({"_aj": "datetime", "v": "yesterday"}, "not an ISO 8601 datetime"),
        ({"_aj": "datetime", "v": "2024-01-01T00:00:00", "tz": "Mars/Base"}, "unknown zone"),
        ({"_aj": "datetime", "v": "2024-01-01T00:00:00", "tz": "../../etc/passwd"}, "zone"),
        ({"_aj": "datetime", "v": "2024-01-01T00:00:00", "tz": 1}, "'tz' must be str"),
        ({"_aj": "datetime", "v": "2024-01-01T00:00:00", "fold": 2}, "'fold'"),
        ({"_aj": "datetime", "v": "2024-01-01T00:00:00", "tzname": "X"}, "no valid offset"),
        ({"_aj": "time", "v": "25:00"}, "ISO 8601 time"),
        ({"_aj": "date", "v": "2024-13-01"}, "ISO 8601 date"),
        ({"_aj": "timedelta", "v": [1, 2]}, "[days, seconds, microseconds]"),
        ({"_aj": "timedelta", "v": [1, 2, True]}, "[days, seconds, microseconds]"),
        ({"_aj": "timedelta", "v": [10**12, 0, 0]}, "out of range"),
        ({"_aj": "decimal", "v": "1.2.3"}, "not a decimal"),
        ({"_aj": "uuid", "v": "123"}, "not a UUID"),
        ({"_aj": "path", "cls": "Path", "v": "/x"}, "not a supported path class"),
        ({"_aj": "path", "cls": "PurePosixPath"}, "'v' must be str"),
        ({"_aj": "enum", "module": "os", "qualname": "getcwd", "v": "A"}, "not an enum class"),
        ({"_aj": "enum", "module": "os", "qualname": "path.join", "v": "A"}, "not an enum class"),
        ({"_aj": "enum", "module": __name__, "qualname": "Session", "v": "A"}, "not an enum"),
        ({"_aj": "enum", "module": __name__, "qualname": "Color", "v": "BLUE"}, "no member"),
        ({"_aj": "enum", "module": __name__, "qualname": "Color", "v": 1}, "'v' must be str"),
        ({"_aj": "enum", "module": __name__, "qualname": "Perm", "v": "R"}, "integer value"),
        ({"_aj": "enum", "module": __name__, "qualname": "Color"}, "'v' must be str"),
        ({"_aj": "enum", "qualname": "Color", "v": "RED"}, "'module' must be str"),
        ([1, {"_aj": "tuple", "v": None}], "'v' must be a list"),
        ({"a": {"_aj": "uuid", "v": "x"}}, "not a UUID"),
    ],
)
def test_malformed_payloads_raise_deserialization_error(payload: Any, message: str) -> None:
    with pytest.raises(DeserializationError) as info:
        deserialize(payload)
    assert type(info.value) is DeserializationError
    assert message in str(info.value)


@pytest.mark.parametrize("payload", [(1, 2), {1, 2}, b"x", object()])
def test_non_json_payload_values_are_refused(payload: Any) -> None:
    with pytest.raises(DeserializationError, match="not JSON"):
        deserialize([payload])


def test_argument_payload_shapes_are_checked() -> None:
    with pytest.raises(DeserializationError, match="must be a list"):
        deserialize_arguments({"a": 1}, {})
    with pytest.raises(DeserializationError, match="must be an object"):
        deserialize_arguments([], [])
    with pytest.raises(DeserializationError, match="names must be str"):
        deserialize_arguments([], {1: 2})


def test_deserialization_errors_name_the_argument() -> None:
    with pytest.raises(DeserializationError, match=r"^argument 1 \(positional\): unknown"):
        deserialize_arguments([1, {"_aj": "nope"}], {})
    with pytest.raises(DeserializationError, match=r"^argument 'user' \(keyword\): unknown"):
        deserialize_arguments([], {"user": {"_aj": "nope"}})


def test_deeply_nested_payload_is_refused() -> None:
    payload: Any = 1
    for _ in range(100_000):
        payload = [payload]
    with pytest.raises(DeserializationError, match="nested too deeply"):
        deserialize_arguments([payload], {})


def test_enum_module_that_is_not_imported_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_name = "aj_probe_enum_module"
    (tmp_path / f"{module_name}.py").write_text(
        "import enum\nclass Color(enum.Enum):\n    RED = 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module_name not in sys.modules
    payload = {"_aj": "enum", "module": module_name, "qualname": "Color", "v": "RED"}
    with pytest.raises(DeserializationError, match="is not loaded"):
        deserialize(payload)
    assert module_name not in sys.modules  # nothing was imported
    # Control: once the application imported it, the same payload works.
    monkeypatch.setitem(sys.modules, module_name, __import__(module_name))
    assert deserialize(payload).name == "RED"


def test_enum_lookup_never_runs_module_getattr(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    module = types.ModuleType("aj_lazy_module")

    def lazy(name: str) -> Any:
        calls.append(name)
        return Color

    module.__getattr__ = lazy  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "aj_lazy_module", module)
    with pytest.raises(DeserializationError, match="not an enum class"):
        deserialize({"_aj": "enum", "module": "aj_lazy_module", "qualname": "Color", "v": "RED"})
    assert calls == []


@pytest.mark.parametrize("micros", [1, -1, 1_000_001, -86_399_999_999])
def test_sub_second_fixed_offsets_round_trip(micros: int) -> None:
    # fromisoformat() alone reads "+00:00:00.000001" as UTC (found by hypothesis).
    from datetime import datetime, timedelta, timezone

    zone = timezone(timedelta(microseconds=micros))
    value = datetime(2000, 1, 1, tzinfo=zone)
    back = deserialize(json.loads(json.dumps(serialize(value))))
    assert back == value and back.utcoffset() == value.utcoffset()
    assert back.tzinfo == zone


def test_import_activejob_is_enough_to_register_a_serializer() -> None:
    # A fresh interpreter: here the test suite has imported activejob.serializers already.
    import subprocess

    code = """if True:
        import sys
        import activejob
        assert "activejob.serializers" in sys.modules

        class Money:
            def __init__(self, cents):
                self.cents = cents

        @activejob.serializers.register
        class MoneySerializer(activejob.serializers.ObjectSerializer):
            klass = Money

            def serialize(self, value):
                return value.cents

            def deserialize(self, data):
                return Money(data)

        class Pay(activejob.Job):
            def perform(self, amount):
                return amount.cents

        activejob.configure(adapter="inline:")
        print(activejob.execute(Pay(Money(250)).serialize()))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "250"
