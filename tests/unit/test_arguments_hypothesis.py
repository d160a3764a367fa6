"""Property tests: every supported value, nested any way, survives a real JSON round
trip with its exact type and value, and encoding is stable."""

from __future__ import annotations

import enum
import json
import math
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activejob.arguments import (
    deserialize,
    deserialize_arguments,
    serialize,
    serialize_arguments,
)
from activejob.serializers import ObjectSerializer, register, unregister


class Suit(enum.Enum):
    HEARTS = "h"
    SPADES = "s"


class Rank(enum.IntEnum):
    ACE = 1
    KING = 13


class Access(enum.Flag):
    READ = 1
    WRITE = 2
    ADMIN = 4


class Money:
    def __init__(self, amount: Decimal, currency: str) -> None:
        self.amount = amount
        self.currency = currency


class MoneySerializer(ObjectSerializer):
    klass = Money

    def serialize(self, value: Money) -> Any:
        return {"amount": value.amount, "currency": value.currency}

    def deserialize(self, data: Any) -> Money:
        return Money(data["amount"], data["currency"])


@pytest.fixture(scope="module", autouse=True)
def money_serializer() -> Iterator[None]:
    register(MoneySerializer)
    yield
    unregister(MoneySerializer)


# -- strategies -------------------------------------------------------------------

offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59, seconds=-59),
    max_value=timedelta(hours=23, minutes=59, seconds=59),
)
fixed_zones = st.builds(timezone, offsets) | st.builds(timezone, offsets, st.text(max_size=6))
try:
    HAVE_ZONEINFO = bool(zoneinfo.available_timezones())
except Exception:  # no tz database at all
    HAVE_ZONEINFO = False
# Named zones need a tz database; without one, fixed offsets still cover the rest.
zones: st.SearchStrategy[tzinfo | None] = st.none() | fixed_zones
if HAVE_ZONEINFO:
    zones = zones | st.timezones()


def _with_fold(value: Any, fold: int) -> Any:
    return value.replace(fold=fold)


datetimes = st.builds(_with_fold, st.datetimes(timezones=zones), st.integers(0, 1))
times = st.builds(_with_fold, st.times(timezones=zones), st.integers(0, 1))
path_parts = st.lists(st.text(alphabet="abcXYZ09._-", min_size=1, max_size=5), max_size=4)
paths = st.builds(
    lambda cls, parts: cls(*parts),
    st.sampled_from([PurePosixPath, PureWindowsPath, Path]),
    path_parts,
)
members = st.sampled_from([*Suit, *Rank, *Access, Access.READ | Access.ADMIN, Access(0)])

# Values usable as set members and dict keys (no NaN: it is not equal to itself).
hashable_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False)
    | st.text()
    | st.just("_aj")
    | st.dates()
    | datetimes
    | times
    | st.timedeltas()
    | st.decimals(allow_nan=False)
    | st.uuids()
    | members
    | paths
)
hashables = st.recursive(
    hashable_scalars,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.frozensets(inner, max_size=3),
    max_leaves=6,
)
scalars = (
    hashable_scalars
    | st.floats()
    | st.decimals()
    | st.builds(Money, st.decimals(allow_nan=False), st.text(max_size=3))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=4) | st.just("_aj"), inner, max_size=4)
        | st.dictionaries(hashables, inner, max_size=4)
        | st.sets(hashables, max_size=4)
        | st.frozensets(hashables, max_size=4)
    ),
    max_leaves=15,
)


# -- exact comparison -------------------------------------------------------------


def assert_same(a: Any, b: Any) -> None:
    """``b`` is ``a``'s exact twin: same types all the way down, same values."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, enum.Enum):
        assert a is b
    elif isinstance(a, float):
        if math.isnan(a):
            assert math.isnan(b)
        else:
            assert a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    elif isinstance(a, Decimal):
        assert str(a) == str(b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert len(a) == len(b)
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            assert_same(ka, kb)
            assert_same(va, vb)
    elif isinstance(a, (set, frozenset)):
        assert len(a) == len(b)
        for x in a:
            twins = [y for y in b if y == x]
            assert len(twins) == 1, (x, b)
            assert_same(x, twins[0])
    elif isinstance(a, (datetime, time)):
        assert a.replace(tzinfo=None) == b.replace(tzinfo=None)
        assert a.fold == b.fold
        assert_same_zone(a.tzinfo, b.tzinfo)
    elif isinstance(a, Money):
        assert_same(a.amount, b.amount)
        assert a.currency == b.currency
    else:
        assert a == b


def assert_same_zone(a: tzinfo | None, b: tzinfo | None) -> None:
    assert type(a) is type(b)
    if isinstance(a, zoneinfo.ZoneInfo):
        assert isinstance(b, zoneinfo.ZoneInfo) and a.key == b.key
    elif a is not None:
        assert a == b and a.tzname(None) == b.tzname(None)


def through_json(value: Any) -> Any:
    return deserialize(json.loads(json.dumps(serialize(value), allow_nan=False)))


# -- properties -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(values)
def test_every_supported_value_round_trips_exactly(value: Any) -> None:
    assert_same(value, through_json(value))


@settings(max_examples=150, deadline=None)
@given(values)
def test_encoding_is_stable(value: Any) -> None:
    """Encoding the decoded value gives the same JSON text (sets in a fixed order)."""
    first = json.dumps(serialize(value), allow_nan=False)
    again = json.dumps(serialize(deserialize(json.loads(first))), allow_nan=False)
    assert first == again


@settings(max_examples=150, deadline=None)
@given(st.lists(values, max_size=4).map(tuple), st.dictionaries(st.text(max_size=5), values))
def test_arguments_round_trip_exactly(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    args_json, kwargs_json = serialize_arguments(args, kwargs)
    loaded_args, loaded_kwargs = json.loads(json.dumps([args_json, kwargs_json], allow_nan=False))
    back_args, back_kwargs = deserialize_arguments(loaded_args, loaded_kwargs)
    assert_same(args, back_args)
    assert_same(kwargs, back_kwargs)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
        ),
    )
)
def test_plain_json_is_stored_as_itself(value: Any) -> None:
    """No tags where JSON suffices (ints in the 64-bit range, str keys without "_aj")."""

    def plain(data: Any) -> bool:
        if isinstance(data, int) and not isinstance(data, bool):
            return -(2**63) <= data < 2**63
        if isinstance(data, list):
            return all(plain(x) for x in data)
        if isinstance(data, dict):
            return "_aj" not in data and all(plain(x) for x in data.values())
        return True

    if plain(value):
        assert serialize(value) == value
