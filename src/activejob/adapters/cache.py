"""Adapters built from URLs, once per URL, and the check of an adapter setting.

``configure(adapter="sqlite:///jobs.sqlite3")`` stores only the URL; the first
enqueue calls :func:`resolve_adapter`, which builds the adapter and keeps it here
until the setting changes (``configure`` calls :func:`reset_adapters` through the
hook wired at the end of ``activejob/__init__.py``).

Example::

    from activejob.adapters.cache import resolve_adapter

    adapter = resolve_adapter("sqlite:///jobs.sqlite3")
    assert adapter is resolve_adapter("sqlite:///jobs.sqlite3")
"""

from __future__ import annotations

import threading

from activejob.adapters import adapter_from_url
from activejob.adapters.base import Adapter
from activejob.config import get_config

__all__ = ["check_adapter_setting", "reset_adapters", "resolve_adapter"]

_adapters: dict[str, Adapter] = {}
_lock = threading.Lock()


def check_adapter_setting(value: object, where: str) -> None:
    """Raise ``TypeError`` unless ``value`` can name an adapter: ``None``, a URL
    string, or an instance of :class:`activejob.adapters.base.Adapter`.

    Checked where the setting is made (``configure``, a job class's
    ``queue_adapter``), so a wrong object fails there, not as an ``AttributeError``
    at the first enqueue.

    Example::

        check_adapter_setting("sqlite:///jobs.sqlite3", "configure(adapter=...)")
    """
    if value is None or isinstance(value, (str, Adapter)):
        return
    expected = (
        "an adapter URL such as 'sqlite:///jobs.sqlite3' or 'async:', or an instance of "
        "activejob.adapters.base.Adapter"
    )
    if isinstance(value, type) and issubclass(value, Adapter):
        raise TypeError(
            f"{where} takes {expected}; got the class {value.__qualname__} itself: "
            f"pass an instance, {value.__qualname__}()"
        )
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise TypeError(f"{where} takes {expected}; got {shown} ({type(value).__qualname__})")


def resolve_adapter(setting: str | Adapter | None = None) -> Adapter:
    """The adapter for ``setting`` (a URL or instance), built once per URL.

    ``None`` means the configured adapter.
    """
    target = get_config().adapter_url() if setting is None else setting
    if not isinstance(target, str):
        # The MRO, not isinstance: an ABC's isinstance runs Python code on every enqueue.
        if Adapter not in type(target).__mro__:
            # Set around configure() (Config.adapter, or queue_adapter after the class).
            where = "the adapter setting" if setting is None else "a job class's queue_adapter"
            check_adapter_setting(target, where)
        return target
    adapter = _adapters.get(target)
    if adapter is not None:
        return adapter
    with _lock:
        adapter = _adapters.get(target)
        if adapter is None:
            adapter = adapter_from_url(target)
            _adapters[target] = adapter
    return adapter


def reset_adapters(*, wait: bool = False) -> None:
    """Forget adapters built from URLs, shutting each down."""
    with _lock:
        built = list(_adapters.values())
        _adapters.clear()
    for adapter in built:
        adapter.shutdown(wait=wait)
