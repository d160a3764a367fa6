"""Adapters by URL scheme, imported only when first used.

``activejob.configure(adapter="sqlite:///jobs.sqlite3")`` finds the adapter for
``sqlite`` here. Built-in schemes map to dotted paths; other packages add theirs
through the ``activejob.adapters`` entry-point group::

    [project.entry-points."activejob.adapters"]
    beanstalk = "activejob_beanstalk:BeanstalkAdapter"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from activejob.errors import ConfigurationError

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

ENTRY_POINT_GROUP = "activejob.adapters"

BUILTIN: dict[str, str] = {
    "inline": "activejob.adapters.inline:InlineAdapter",
    "async": "activejob.adapters.asyncpool:AsyncAdapter",
    "test": "activejob.adapters.test:TestAdapter",
    "sqlite": "activejob.adapters.sqlite:SQLiteAdapter",
    "postgresql": "activejob.adapters.postgresql:PostgreSQLAdapter",
    "postgres": "activejob.adapters.postgresql:PostgreSQLAdapter",
    "mysql": "activejob.adapters.mysql:MySQLAdapter",
    "mariadb": "activejob.adapters.mysql:MySQLAdapter",
    "redis": "activejob.adapters.redis:RedisAdapter",
    "rediss": "activejob.adapters.redis:RedisAdapter",
    "celery": "activejob.adapters.celery:CeleryAdapter",
    "dramatiq": "activejob.adapters.dramatiq:DramatiqAdapter",
    "rq": "activejob.adapters.rq:RQAdapter",
    "huey": "activejob.adapters.huey:HueyAdapter",
    "django": "activejob.contrib.django.adapter:DjangoAdapter",
}
"""Built-in schemes and the ``module:Class`` that implements each."""

EXTRAS: dict[str, str] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "redis": "redis",
    "rediss": "redis",
    "celery": "celery",
    "dramatiq": "dramatiq",
    "rq": "rq",
    "huey": "huey",
    "django": "django",
}
"""The ``pip install 'activejob[extra]'`` that brings a built-in scheme's driver."""

_registered: dict[str, str | type[Adapter]] = {}


def register(scheme: str, target: str | type[Adapter]) -> None:
    """Add (or replace) the adapter for ``scheme``: a class or ``"module:Class"``."""
    _registered[scheme] = target


def scheme_of(url: str) -> str:
    """The scheme of an adapter URL: ``"sqlite"`` for ``sqlite:///x``, ``"async"`` for
    ``async:``."""
    scheme, sep, _ = url.partition(":")
    if not sep or not scheme:
        raise ConfigurationError(f"adapter URL {url!r} has no scheme (expected e.g. 'async:')")
    return scheme.split("+", 1)[0].lower()


def _target_for(scheme: str) -> object:
    if scheme in _registered:
        return _registered[scheme]
    if scheme in BUILTIN:
        return BUILTIN[scheme]
    # Imported here: ``import activejob`` imports this package, and should not pay
    # for importlib.metadata unless a scheme is not a built-in one.
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == scheme:
            try:
                loaded: object = ep.load()
            except Exception as exc:
                raise ConfigurationError(
                    f"the {scheme!r} adapter from entry point {ep.value!r} could not be "
                    f"loaded: {exc}"
                ) from exc
            return loaded
    known = sorted({*BUILTIN, *_registered})
    raise ConfigurationError(f"unknown adapter scheme {scheme!r}; known: {', '.join(known)}")


def _import_target(scheme: str, target: str) -> object:
    """Load ``"module:Attr.attr"``, naming the missing piece when it cannot be."""
    module_name, _, attr_path = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        builtin = BUILTIN.get(scheme) == target
        extra = EXTRAS.get(scheme) if builtin else None
        hint = f" (try `pip install 'activejob[{extra}]'`)" if extra else ""
        raise ConfigurationError(
            f"the {scheme!r} adapter needs a package that is not installed: {exc}{hint}"
        ) from exc
    found: object = module
    try:
        for name in attr_path.split("."):
            found = getattr(found, name)
    except AttributeError as exc:
        raise ConfigurationError(f"{target!r} registered for {scheme!r} was not found") from exc
    return found


def adapter_class(scheme: str) -> type[Adapter]:
    """The adapter class for ``scheme``, importing its module on first use."""
    from activejob.adapters.base import Adapter

    target = _target_for(scheme)
    if isinstance(target, str):
        target = _import_target(scheme, target)
    if not (isinstance(target, type) and issubclass(target, Adapter)):
        raise ConfigurationError(f"{target!r} registered for {scheme!r} is not an Adapter class")
    return target


def adapter_from_url(url: str) -> Adapter:
    """Build the adapter for ``url``."""
    return adapter_class(scheme_of(url)).from_url(url)
