"""The one configuration object.

Everything activejob reads at run time comes from the :class:`Config` returned by
:func:`get_config`, changed through :func:`configure`. Nothing is resolved when a
job is defined: the adapter URL is turned into an adapter the first time a job is
enqueued, so ``import`` never opens a connection.

Precedence for the adapter: ``configure(adapter=...)``, then the
``ACTIVEJOB_ADAPTER`` environment variable, then :data:`DEFAULT_ADAPTER`.
A job class may name its own with ``queue_adapter = "..."``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activejob.adapters.base import Adapter

DEFAULT_ADAPTER = "sqlite:///activejob.sqlite3"
"""The adapter used when neither ``configure`` nor ``ACTIVEJOB_ADAPTER`` names one:
durable jobs in ``activejob.sqlite3`` in the working directory, run by
``activejob worker``."""


@dataclass
class Config:
    """Settings for the whole process. Change them with :func:`configure`.

    Example::

        activejob.configure(adapter="sqlite:///jobs.sqlite3", queue_name_prefix="myapp")
    """

    adapter: str | Adapter | None = None
    """An adapter URL (``"sqlite:///jobs.sqlite3"``) or instance; ``None`` reads the
    ``ACTIVEJOB_ADAPTER`` environment variable, then falls back to the default."""
    queue_name_prefix: str | None = None
    """Prepended to every queue name, joined by :attr:`queue_name_delimiter`."""
    queue_name_delimiter: str = "_"
    default_queue_name: str = "default"
    app: str = "activejob"
    """The application name written into GlobalIDs (``gid://<app>/...``)."""
    secret: str | bytes | None = None
    """The key that signs ``SignedGlobalID`` values."""
    options: dict[str, Any] = field(default_factory=dict)
    """Settings for extensions, keyed by their name."""

    def adapter_url(self) -> str | Adapter:
        """The adapter setting after the environment and the default are applied."""
        if self.adapter is not None:
            return self.adapter
        return os.environ.get("ACTIVEJOB_ADAPTER") or DEFAULT_ADAPTER


_config = Config()
_adapters: dict[str, Adapter] = {}
_lock = threading.Lock()
_adapter_base: type[Adapter] | None = None


def _adapter_class() -> type[Adapter]:
    global _adapter_base
    if _adapter_base is None:
        # Imported late: the adapters package reads entry points, which ``import
        # activejob`` should not pay for.
        from activejob.adapters.base import Adapter

        _adapter_base = Adapter
    return _adapter_base


def check_adapter_setting(value: object, where: str) -> None:
    """Raise ``TypeError`` unless ``value`` can name an adapter: ``None``, a URL
    string, or an instance of :class:`activejob.adapters.base.Adapter`.

    Checked where the setting is made (``configure``, a job class's
    ``queue_adapter``), so a wrong object fails there, not as an ``AttributeError``
    at the first enqueue.

    Example::

        check_adapter_setting("sqlite:///jobs.sqlite3", "configure(adapter=...)")
    """
    if value is None or isinstance(value, str):
        return
    base = _adapter_class()
    if isinstance(value, base):
        return
    expected = (
        "an adapter URL such as 'sqlite:///jobs.sqlite3' or 'async:', or an instance of "
        "activejob.adapters.base.Adapter"
    )
    if isinstance(value, type) and issubclass(value, base):
        raise TypeError(
            f"{where} takes {expected}; got the class {value.__qualname__} itself: "
            f"pass an instance, {value.__qualname__}()"
        )
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise TypeError(f"{where} takes {expected}; got {shown} ({type(value).__qualname__})")


def get_config() -> Config:
    """The process-wide configuration object."""
    return _config


def configure(**settings: Any) -> Config:
    """Change settings by name and return the configuration.

    Unknown names raise ``TypeError``, and so does an ``adapter`` that is neither a
    URL nor an :class:`~activejob.adapters.base.Adapter` instance (nothing is
    changed then). Changing the adapter drops adapters built from the old setting
    (they are shut down without waiting).

    Example::

        activejob.configure(adapter="inline:")
    """
    names = {f.name for f in dataclasses.fields(Config)}
    unknown = set(settings) - names
    if unknown:
        raise TypeError(f"unknown activejob setting(s): {', '.join(sorted(unknown))}")
    if "adapter" in settings:
        check_adapter_setting(settings["adapter"], "activejob.configure(adapter=...)")
    for name, value in settings.items():
        setattr(_config, name, value)
    if "adapter" in settings:
        reset_adapters()
    return _config


def resolve_adapter(setting: str | Adapter | None = None) -> Adapter:
    """The adapter for ``setting`` (a URL or instance), built once per URL.

    ``None`` means the configured adapter.
    """
    target = _config.adapter_url() if setting is None else setting
    if not isinstance(target, str):
        if not isinstance(target, _adapter_base or _adapter_class()):
            # Set around configure() (Config.adapter, or queue_adapter after the class).
            where = "the adapter setting" if setting is None else "a job class's queue_adapter"
            check_adapter_setting(target, where)
        return target
    adapter = _adapters.get(target)
    if adapter is not None:
        return adapter
    from activejob.adapters import adapter_from_url  # here: adapters import this module

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
