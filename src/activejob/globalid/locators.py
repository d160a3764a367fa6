"""Loading records from GlobalIDs: :func:`locate`, :func:`locate_many`, and locators.

A *locator* finds the records of one app's GlobalIDs. Every app name uses the
:class:`DefaultLocator` (the model registries of :mod:`activejob.globalid.model`)
unless :func:`register_locator` gives it its own, for example to load records
of another service over its API::

    @register_locator("billing")
    def find_billing_record(gid: GlobalID) -> object | None:
        return billing_api.fetch(gid.model_name, gid.model_id)   # None if missing

A locator returns ``None`` for a record that does not exist; :func:`locate`
turns that into :class:`activejob.RecordNotFound`. Any other exception (the
database is down) propagates unchanged.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

from activejob.globalid.errors import ModelNotAllowed, UnknownModel
from activejob.globalid.model import ModelType, model_type_named, unknown_model_hint
from activejob.globalid.names import check_app

if TYPE_CHECKING:
    from activejob.globalid.gid import GlobalID

__all__ = [
    "DefaultLocator",
    "Locator",
    "allowed_classes",
    "check_after",
    "check_before",
    "locator_for",
    "register_locator",
    "unregister_locator",
]

Only = type[Any] | tuple[type[Any], ...] | None
LocatorFunction = Callable[["GlobalID"], Any]


class Locator(ABC):
    """Finds the records GlobalIDs point at. Subclass it and implement :meth:`locate`."""

    @abstractmethod
    def locate(self, gid: GlobalID) -> Any:
        """The record ``gid`` points at, or ``None`` if there is none."""

    def locate_many(self, gids: Sequence[GlobalID]) -> list[Any]:
        """The records for ``gids``, in the same order, ``None`` where missing.

        The default calls :meth:`locate` for each; override it to batch.
        """
        return [self.locate(gid) for gid in gids]

    def model_class(self, gid: GlobalID) -> type[Any] | None:
        """The class of the record ``gid`` names, if known without loading it
        (``only=`` is then checked before any query)."""
        return None


class DefaultLocator(Locator):
    """Resolves the model name through the registries, then asks the model's type
    to load: one query per model for :meth:`locate_many`."""

    def model_type(self, gid: GlobalID) -> ModelType:
        """The registered model ``gid`` names, or :class:`UnknownModel`."""
        found = model_type_named(gid.model_name)
        if found is None:
            raise UnknownModel(f"{gid}: unknown model {gid.model_name!r}: {unknown_model_hint()}")
        return found

    def model_class(self, gid: GlobalID) -> type[Any]:
        return self.model_type(gid).model_class

    def locate(self, gid: GlobalID) -> Any:
        return self.model_type(gid).locate(gid.model_id)

    def locate_many(self, gids: Sequence[GlobalID]) -> list[Any]:
        by_model: dict[str, list[int]] = {}
        for index, gid in enumerate(gids):
            by_model.setdefault(gid.model_name, []).append(index)
        out: list[Any] = [None] * len(gids)
        for positions in by_model.values():
            kind = self.model_type(gids[positions[0]])
            records = kind.locate_many([gids[i].model_id for i in positions])
            for index, record in zip(positions, records, strict=True):
                out[index] = record
        return out


class FunctionLocator(Locator):
    """A locator made from a function ``(gid) -> record | None``."""

    def __init__(self, function: LocatorFunction) -> None:
        self.function = function

    def locate(self, gid: GlobalID) -> Any:
        return self.function(gid)

    def __repr__(self) -> str:
        return f"<FunctionLocator {self.function!r}>"


DEFAULT_LOCATOR = DefaultLocator()
_locators: dict[str, Locator] = {}
_lock = threading.Lock()


@overload
def register_locator(app: str, locator: Locator | LocatorFunction) -> Locator: ...
@overload
def register_locator(
    app: str, locator: None = None
) -> Callable[[LocatorFunction], LocatorFunction]: ...
def register_locator(app: str, locator: Locator | LocatorFunction | None = None) -> Any:
    """Use ``locator`` for the GlobalIDs of ``app`` (a :class:`Locator` or a function
    ``(gid) -> record | None``); returns the locator.

    As a decorator, ``@register_locator("billing")`` registers the function and
    returns it unchanged. Registering an app again replaces its locator.
    """
    name = check_app(app)
    if locator is None:

        def decorator(function: LocatorFunction) -> LocatorFunction:
            register_locator(name, function)
            return function

        return decorator
    if not isinstance(locator, Locator):
        if not callable(locator):
            raise TypeError(f"a locator is a Locator or a function, not {locator!r}")
        locator = FunctionLocator(locator)
    global _locators
    with _lock:
        _locators = {**_locators, name: locator}
    return locator


def unregister_locator(app: str) -> None:
    """Go back to the default locator for ``app``."""
    global _locators
    name = check_app(app)
    with _lock:
        _locators = {k: v for k, v in _locators.items() if k != name}


def locator_for(app: str) -> Locator:
    """The locator used for GlobalIDs of ``app``."""
    return _locators.get(app.lower(), DEFAULT_LOCATOR)


# -- the checks of only= (the public locate() and locate_many() are in gid.py) ------------


def allowed_classes(only: Only) -> tuple[type[Any], ...] | None:
    """The classes ``only=`` allows, checked; ``None`` allows any."""
    if only is None:
        return None
    classes = only if isinstance(only, tuple) else (only,)
    if not classes or not all(isinstance(cls, type) for cls in classes):
        raise TypeError(f"only= takes a class or a tuple of classes, not {only!r}")
    return classes


def _refuse(gid: GlobalID, found: type[Any], allowed: tuple[type[Any], ...]) -> ModelNotAllowed:
    names = ", ".join(cls.__qualname__ for cls in allowed)
    return ModelNotAllowed(f"{gid} names a {found.__qualname__}, not one of: {names}")


def check_before(locator: Locator, gid: GlobalID, allowed: tuple[type[Any], ...]) -> None:
    """Refuse ``gid`` before any query when ``locator`` knows its class is not allowed."""
    cls = locator.model_class(gid)
    if cls is not None and not issubclass(cls, allowed):
        raise _refuse(gid, cls, allowed)


def check_after(gid: GlobalID, record: Any, allowed: tuple[type[Any], ...] | None) -> Any:
    """``record``, unless it is not one of the ``allowed`` classes."""
    if allowed is not None and not isinstance(record, allowed):
        raise _refuse(gid, type(record), allowed)
    return record
