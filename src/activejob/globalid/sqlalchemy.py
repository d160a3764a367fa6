"""SQLAlchemy 2.x models as GlobalIDs: ``gid://<app>/<module.ClassName>/<primary key>``.

Any mapped instance with a primary key can be passed to a job. To load records
again, a worker needs to know your declarative base and how to open a session::

    import activejob.globalid.sqlalchemy
    from myapp.db import Base, Session          # DeclarativeBase subclass, sessionmaker

    activejob.globalid.sqlalchemy.configure(Base, session_factory=Session)

Call ``configure`` once per base (a multi-database app gives each base its own
session factory). A GlobalID's model name is looked up only among the mapped
classes of configured bases.

Sessions: with a ``sessionmaker`` (or any callable returning a new ``Session``),
each lookup opens a session, loads the records and closes it: records come back
*detached*, their columns loaded; ``session.add(record)`` attaches one to your
own session to change it or load relationships. With a ``scoped_session``, the
current scoped session is used and left open, so records stay attached to it
(close it yourself, e.g. in an ``around_perform`` callback). Either way the rows
are read again from the database (``populate_existing``), never from a stale
identity map.

This module imports SQLAlchemy; activejob imports it only when the application
has imported SQLAlchemy itself.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Dialect,
    Integer,
    SmallInteger,
    TypeDecorator,
    inspect,
    select,
    tuple_,
)
from sqlalchemy.orm import InstanceState, Mapper, Session, scoped_session
from sqlalchemy.orm import registry as Registry

from activejob.globalid.errors import InvalidGlobalID
from activejob.globalid.model import ModelType, model_id_of
from activejob.globalid.names import ModelId

__all__ = ["SQLAlchemyModelType", "configure", "configured_bases", "unconfigure"]

SessionFactory = Callable[[], Session]

#: Ids per ``IN (...)`` query in ``locate_many`` (SQLite's old limit is 999 parameters).
CHUNK = 500


@dataclass(frozen=True)
class _Binding:
    base: Any
    registry: Registry
    session_factory: SessionFactory


_bindings: tuple[_Binding, ...] = ()
_lock = threading.Lock()


def _registry_of(base: Any) -> Registry:
    if isinstance(base, Registry):
        return base
    found = getattr(base, "registry", None)
    if not isinstance(found, Registry):
        raise TypeError(
            f"{base!r} is not a SQLAlchemy declarative base (a DeclarativeBase subclass, "
            "a declarative_base() result) or a sqlalchemy.orm.registry"
        )
    return found


def configure(base: Any, *, session_factory: SessionFactory) -> None:
    """Let GlobalIDs name the mapped classes of ``base``, loaded with ``session_factory``.

    ``base`` is a ``DeclarativeBase`` subclass, a ``declarative_base()`` result or
    a ``sqlalchemy.orm.registry``; ``session_factory`` a ``sessionmaker``, a
    ``scoped_session`` or any callable returning a ``Session``. Configuring the
    same base again replaces its session factory.

        activejob.globalid.sqlalchemy.configure(Base, session_factory=Session)
    """
    registry = _registry_of(base)
    if not callable(session_factory):
        raise TypeError(f"session_factory must be callable, got {session_factory!r}")
    global _bindings
    with _lock:
        others = tuple(b for b in _bindings if b.registry is not registry)
        _bindings = (*others, _Binding(base, registry, session_factory))


def unconfigure(base: Any = None) -> None:
    """Forget ``base`` (every base when ``None``), for tests."""
    global _bindings
    with _lock:
        if base is None:
            _bindings = ()
        else:
            registry = _registry_of(base)
            _bindings = tuple(b for b in _bindings if b.registry is not registry)


def configured_bases() -> list[Any]:
    """The bases given to :func:`configure`, in order."""
    return [binding.base for binding in _bindings]


# -- the hooks model.py calls -------------------------------------------------------


def _state(obj: object) -> InstanceState[Any] | None:
    state = inspect(obj, raiseerr=False)
    return state if isinstance(state, InstanceState) else None


def is_model(obj: object) -> bool:
    """Whether ``obj`` is an instance of a mapped class."""
    return _state(obj) is not None


def model_name(cls: type[Any]) -> str:
    """The name GlobalIDs use for a mapped class: ``module.QualName``."""
    if "<locals>" in cls.__qualname__:
        raise InvalidGlobalID(
            f"mapped class {cls.__qualname__} is defined inside a function: a worker could "
            "not find it by name"
        )
    return f"{cls.__module__}.{cls.__qualname__}"


def identify(obj: object) -> tuple[str, ModelId] | None:
    """``(name, id)`` of a mapped instance, ``None`` for anything else."""
    state = _state(obj)
    if state is None:
        return None
    name = model_name(state.class_)
    identity = state.identity  # from the identity key: no database access
    if identity is None or any(part is None for part in identity):
        raise InvalidGlobalID(
            f"{name} has no primary key yet: add it to a session and flush or commit first"
        )
    return name, model_id_of(identity[0] if len(identity) == 1 else tuple(identity))


def model_type_named(name: str) -> SQLAlchemyModelType | None:
    """The mapped class called ``name`` in a configured base, with its session factory."""
    for binding in _bindings:
        for mapper in binding.registry.mappers:
            cls = mapper.class_
            if f"{cls.__module__}.{cls.__qualname__}" == name:
                return SQLAlchemyModelType(name, mapper, binding.session_factory)
    return None


def hint() -> str | None:
    """What may be missing when a name is not found."""
    if not _bindings:
        return (
            "no SQLAlchemy base is configured: call "
            "activejob.globalid.sqlalchemy.configure(Base, session_factory=...) in the worker"
        )
    return None


# -- loading --------------------------------------------------------------------------


def _parse_bool(text: str) -> bool:
    return {"True": True, "False": False, "1": True, "0": False}[text]


_CONVERTERS: dict[type[Any], Callable[[str], Any]] = {
    int: int,
    str: str,
    float: float,
    bool: _parse_bool,
    Decimal: Decimal,
    uuid.UUID: uuid.UUID,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    time: time.fromisoformat,
}


def _converter(column: Any) -> Callable[[str], Any]:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return str
    return _CONVERTERS.get(python_type, str)


# Databases that refuse an integer wider than the column's declared type ("integer out
# of range") rather than compare it. SQLite stores every INTEGER in 64 bits whatever
# the declared type, so it is bounded by 64 bits only; other databases are not bounded.
_DECLARED_WIDTHS = frozenset({"postgresql", "mysql", "mariadb", "mssql"})


def integer_range(column: Any, dialect: Dialect) -> tuple[int, int] | None:
    """The integers ``column`` can hold on ``dialect``; ``None`` if not an integer
    column or not known (then any value is sent to the database)."""
    column_type = column.type.dialect_impl(dialect)  # resolves with_variant()
    if isinstance(column_type, TypeDecorator) or not isinstance(column_type, Integer):
        return None  # a TypeDecorator may store another value than the one converted
    if dialect.name == "sqlite":
        bits = 64
    elif dialect.name in _DECLARED_WIDTHS:
        if isinstance(column_type, BigInteger):
            bits = 64
        elif isinstance(column_type, SmallInteger):
            bits = 16
        else:
            bits = 32  # INTEGER, and wider than MySQL's TINYINT and MEDIUMINT: safe
    else:
        return None
    if getattr(column_type, "unsigned", False):  # MySQL
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


class SQLAlchemyModelType(ModelType):
    """A mapped class of a configured base: ``Session.get`` and one ``IN`` query per batch."""

    def __init__(self, name: str, mapper: Mapper[Any], session_factory: SessionFactory) -> None:
        super().__init__(name, mapper.class_)
        self.mapper = mapper
        self.session_factory = session_factory
        self.columns = tuple(mapper.primary_key)
        self.converters = tuple(_converter(column) for column in self.columns)

    def key(self, model_id: ModelId) -> tuple[Any, ...] | None:
        """The primary key for ``model_id`` in Python types; ``None`` if no row can have it
        (integers out of the column's range are checked by :meth:`fits`)."""
        parts = model_id if isinstance(model_id, tuple) else (model_id,)
        if len(parts) != len(self.converters):
            return None
        try:
            return tuple(
                convert(part) for convert, part in zip(self.converters, parts, strict=True)
            )
        except (ValueError, KeyError, ArithmeticError):
            return None

    def ranges(self, session: Session) -> tuple[tuple[int, int] | None, ...]:
        """Per key column, the integers it can hold in the database ``session`` reads."""
        dialect = session.get_bind(self.mapper).dialect
        return tuple(integer_range(column, dialect) for column in self.columns)

    @staticmethod
    def fits(key: tuple[Any, ...], ranges: tuple[tuple[int, int] | None, ...]) -> bool:
        """Whether a row can have ``key``: a driver refuses an integer its column cannot
        hold (``OverflowError``, ``DataError``) instead of finding no row."""
        return all(
            bounds is None or bounds[0] <= part <= bounds[1]
            for part, bounds in zip(key, ranges, strict=True)
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one lookup: the scoped one as it is, or a new one closed after."""
        factory = self.session_factory
        if isinstance(factory, scoped_session):
            yield factory()
            return
        session = factory()
        try:
            yield session
        finally:
            # close() expunges before it rolls back, so loaded columns stay readable.
            session.close()

    def locate(self, model_id: ModelId) -> Any:
        key = self.key(model_id)
        if key is None:
            return None
        with self.session() as session:
            if not self.fits(key, self.ranges(session)):
                return None
            return session.get(
                self.model_class, key if len(key) > 1 else key[0], populate_existing=True
            )

    def locate_many(self, ids: Sequence[ModelId]) -> list[Any]:
        keys = [self.key(model_id) for model_id in ids]
        if all(key is None for key in keys):
            return [None] * len(keys)
        found: dict[tuple[Any, ...], Any] = {}
        with self.session() as session:
            ranges = self.ranges(session)
            keys = [None if key is None or not self.fits(key, ranges) else key for key in keys]
            wanted = list(dict.fromkeys(key for key in keys if key is not None))
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                query = select(self.model_class).where(self._in(chunk))
                query = query.execution_options(populate_existing=True)
                for record in session.scalars(query):
                    identity = inspect(record).identity
                    if identity is not None:
                        found[tuple(identity)] = record
        return [None if key is None else found.get(key) for key in keys]

    def _in(self, keys: list[tuple[Any, ...]]) -> ColumnElement[bool]:
        if len(self.columns) == 1:
            return self.columns[0].in_([key[0] for key in keys])
        return tuple_(*self.columns).in_(keys)
