"""Which classes GlobalIDs may name, and how their records are loaded.

Three registries answer, in this order:

1. classes registered with :func:`register_model` (any class implementing
   :class:`Locatable`), under the name given or ``"module.QualName"``;
2. SQLAlchemy mapped classes of the declarative bases given to
   ``activejob.globalid.sqlalchemy.configure``, as ``"module.QualName"``;
3. Django models of installed apps, as ``"app_label.ModelName"``.

A model name read from a GlobalID is only ever looked up in these registries:
nothing is imported from a payload. SQLAlchemy and Django are consulted only
when the application has imported them already, so ``import activejob`` stays
light.
"""

from __future__ import annotations

import importlib
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

from activejob.globalid.errors import InvalidGlobalID
from activejob.globalid.names import ModelId, check_model_name

__all__ = [
    "Locatable",
    "ModelType",
    "identify",
    "is_locatable",
    "model_id_of",
    "model_type_named",
    "register_model",
    "registered_models",
    "unregister_model",
]

T = TypeVar("T", bound=type)


@runtime_checkable
class Locatable(Protocol):
    """What a class implements so that its instances can travel as GlobalIDs.

    An instance has an ``id`` (a str, int, UUID..., or a tuple of them for a
    composite key) and the class can ``locate`` an instance by that id, given
    back **as text** (a tuple of texts for a composite key). ``locate`` returns
    ``None`` when there is no such record; any exception it raises (a timeout,
    a lost connection) propagates as itself. An optional class-level
    ``locate_many(ids)`` returns the records found for many ids at once, in any
    order; without it, ``locate`` is called per id. Its records are matched to
    the ids by the text of their ``id``; ``locate`` is asked for any id left
    unmatched (a missing record, or an id written another way, as ``"007"``).

    Register the class so that GlobalIDs may name it::

        from activejob.globalid import register_model

        @register_model                       # named "billing.Invoice" here
        class Invoice:
            def __init__(self, id: int, total: int) -> None:
                self.id, self.total = id, total

            @classmethod
            def locate(cls, id: str) -> Invoice | None:
                row = db.fetch_invoice(int(id))
                return None if row is None else cls(row.id, row.total)

    ``register_model(name="Invoice")`` chooses the name written into GlobalIDs.

    A class may also subclass ``Locatable`` to say so; it sets its own ``id`` like
    any attribute (a dataclass field ``id: int`` included). A class whose ``id``
    is a read-only property still matches at run time (``isinstance``,
    ``register_model``).
    """

    # A plain attribute, not a property: a property here would be inherited by a
    # subclass and make `self.id = ...` (and a dataclass's __init__) fail.
    id: Any
    """The record's id (a tuple for a composite key)."""

    @classmethod
    def locate(cls, id: Any) -> Any:
        """The record with this id (text, or a tuple of texts), or ``None``."""


class ModelType(ABC):
    """One model class and how to load its records (built by the registries).

    ``locate_many`` returns a list aligned with ``ids``: the record, or ``None``
    where there is none. Exceptions other than "not found" propagate unchanged.
    """

    def __init__(self, name: str, model_class: type[Any]) -> None:
        self.name = name
        self.model_class = model_class

    @abstractmethod
    def locate(self, model_id: ModelId) -> Any:
        """The record with ``model_id``, or ``None``."""

    def locate_many(self, ids: Sequence[ModelId]) -> list[Any]:
        """The records for ``ids`` (``None`` where missing); by default one ``locate`` each."""
        return [self.locate(model_id) for model_id in ids]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.model_class.__qualname__}>"


def model_id_of(value: object, *, what: object = None) -> ModelId:
    """The GlobalID form of a record's id: text, or a tuple of texts.

    >>> model_id_of(42), model_id_of(("acme", 7))
    ('42', ('acme', '7'))
    """
    if isinstance(value, (tuple, list)):
        return tuple(_id_text(part, what) for part in value)
    return _id_text(value, what)


def _id_text(value: object, what: object) -> str:
    if value is None or (isinstance(value, str) and not value):
        raise InvalidGlobalID(
            f"{_describe(what)} has no id yet (save it before passing it to a job)"
        )
    return value if isinstance(value, str) else str(value)


def _describe(obj: object) -> str:
    if obj is None:
        return "the record"
    cls = type(obj)
    return f"a {cls.__module__}.{cls.__qualname__}"


class LocatableType(ModelType):
    """A class registered with :func:`register_model`."""

    def locate(self, model_id: ModelId) -> Any:
        return self.model_class.locate(model_id)

    def locate_many(self, ids: Sequence[ModelId]) -> list[Any]:
        batch = getattr(self.model_class, "locate_many", None)
        if batch is None:
            return super().locate_many(ids)
        found: dict[ModelId, Any] = {}
        for record in batch(list(dict.fromkeys(ids))):
            found[model_id_of(record.id, what=record)] = record
        # Records are matched to ids by the text of their id, so an id written another
        # way ("007" for 7, a UUID in capitals) matches nothing: ask locate() for it, so
        # locate_many finds exactly what locate finds.
        for model_id in dict.fromkeys(ids):
            if model_id not in found:
                found[model_id] = self.locate(model_id)
        return [found[model_id] for model_id in ids]


# Replaced as a whole under the lock, never mutated: readers need no lock.
_by_name: dict[str, LocatableType] = {}
_by_class: dict[type[Any], str] = {}
_lock = threading.Lock()


@overload
def register_model(cls: T, *, name: str | None = None) -> T: ...
@overload
def register_model(cls: None = None, *, name: str | None = None) -> Callable[[T], T]: ...
def register_model(cls: type[Any] | None = None, *, name: str | None = None) -> Any:
    """Let GlobalIDs name ``cls``, a class implementing :class:`Locatable`; returns ``cls``.

    Works as ``@register_model`` or ``@register_model(name="Invoice")``. The
    name defaults to ``"module.QualName"``; it is written into every GlobalID,
    so keep it stable. Registering the same class again (or its new definition
    after a reload) replaces it; another class under a taken name raises
    ``ValueError``. Register in the processes that enqueue *and* in the workers
    (in the module that defines the class).
    """
    if cls is None:
        return lambda klass: register_model(klass, name=name)
    if not isinstance(cls, type) or not callable(getattr(cls, "locate", None)):
        raise TypeError(f"{cls!r} is not a Locatable class: it needs a class-level locate(id)")
    if name is None:
        if "<locals>" in cls.__qualname__:
            raise ValueError(
                f"{cls.__qualname__} is defined inside a function: pass register_model(name=...)"
            )
        name = f"{cls.__module__}.{cls.__qualname__}"
    check_model_name(name)
    with _lock:
        existing = _by_name.get(name)
        if existing is not None and not _same_class(existing.model_class, cls):
            raise ValueError(f"GlobalID model name {name!r} is already used by {existing!r}")
        others = {k: v for k, v in _by_name.items() if not _same_class(v.model_class, cls)}
        _replace({**others, name: LocatableType(name, cls)})
    return cls


def unregister_model(model: type[Any] | str) -> None:
    """Forget a class registered with :func:`register_model` (by class or name)."""
    with _lock:
        _replace({k: v for k, v in _by_name.items() if k != model and v.model_class is not model})


def _replace(by_name: dict[str, LocatableType]) -> None:
    global _by_name, _by_class
    _by_name, _by_class = by_name, {kind.model_class: name for name, kind in by_name.items()}


def registered_models() -> dict[str, type[Any]]:
    """The classes registered with :func:`register_model`, by name."""
    return {name: kind.model_class for name, kind in _by_name.items()}


def _same_class(a: type[Any], b: type[Any]) -> bool:
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


# -- the integrations -----------------------------------------------------------------


# Integrations whose module could not be imported (an unsupported library version),
# with the reason: they are skipped, and named in error messages.
_unavailable: dict[str, str] = {}


def _integrations() -> Iterable[Any]:
    """The ORM integrations that apply: only for libraries the app imported itself."""
    for library, module in (("sqlalchemy", "sqlalchemy"), ("django.db.models", "django")):
        if library not in sys.modules or module in _unavailable:
            continue
        try:
            yield importlib.import_module(f"activejob.globalid.{module}")
        except ImportError as exc:
            _unavailable[module] = f"activejob.globalid.{module} cannot be used: {exc}"


def identify(obj: object) -> tuple[str, ModelId]:
    """``(model name, model id)`` of a record, or :class:`InvalidGlobalID`."""
    name = _by_class.get(type(obj))
    if name is not None:
        return name, model_id_of(getattr(obj, "id", None), what=obj)
    for integration in _integrations():
        found: tuple[str, ModelId] | None = integration.identify(obj)
        if found is not None:
            return found
    cls = type(obj)
    where = f"{cls.__module__}.{cls.__qualname__}"
    if any(base in _by_class for base in cls.__mro__[1:]):
        raise InvalidGlobalID(f"{where} is not registered itself (only a base class is)")
    unavailable = "".join(f" ({reason})" for reason in _unavailable.values())
    raise InvalidGlobalID(
        f"{where} cannot have a GlobalID: register it with activejob.globalid.register_model"
        + unavailable
    )


def is_locatable(obj: object) -> bool:
    """Whether :func:`identify` is the right place for ``obj`` (it may still refuse it,
    with a clearer message than "unsupported type": an unsaved record, an
    unregistered class that implements :class:`Locatable`)."""
    cls = type(obj)
    registered = _by_class
    if registered and any(base in registered for base in cls.__mro__):
        return True
    for integration in _integrations():
        if integration.is_model(obj):
            return True
    # Checked on the class first: reading `id` may run a property.
    return callable(getattr(cls, "locate", None)) and hasattr(obj, "id")


def model_type_named(name: str) -> ModelType | None:
    """The model a GlobalID names, from the registries only; ``None`` if unknown."""
    kind = _by_name.get(name)
    if kind is not None:
        return kind
    for integration in _integrations():
        found: ModelType | None = integration.model_type_named(name)
        if found is not None:
            return found
    return None


def unknown_model_hint() -> str:
    """Why a name may be unknown, for error messages."""
    hints = [integration.hint() for integration in _integrations()]
    hints += _unavailable.values()
    found = [hint for hint in hints if hint]
    extra = f" ({'; '.join(found)})" if found else ""
    return (
        "it is not a class registered with activejob.globalid.register_model, a mapped class "
        "of a SQLAlchemy base given to activejob.globalid.sqlalchemy.configure, or a Django "
        f"model of an installed app{extra}"
    )
