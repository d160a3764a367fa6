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
from collections.abc import Callable
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
    enqueue_after_transaction_commit: bool = True
    """Inside a framework's open transaction (Django's ``transaction.atomic()``), hold
    an enqueue until the transaction commits and drop it on rollback; a job class
    overrides it with its own ``enqueue_after_transaction_commit``. An adapter that
    joins the transaction (``django``) writes the job in it instead."""
    options: dict[str, Any] = field(default_factory=dict)
    """Settings for extensions, keyed by their name."""

    def adapter_url(self) -> str | Adapter:
        """The adapter setting after the environment and the default are applied."""
        if self.adapter is not None:
            return self.adapter
        return os.environ.get("ACTIVEJOB_ADAPTER") or DEFAULT_ADAPTER


_config = Config()
_check_adapter: Callable[[object, str], None] | None = None
_drop_adapters: Callable[[], None] | None = None


def use_adapter_cache(check: Callable[[object, str], None], drop: Callable[[], None]) -> None:
    """Let :func:`configure` check an ``adapter`` setting and drop the adapters built
    from the old one; wired once at the end of ``activejob/__init__.py`` with
    :mod:`activejob.adapters.cache`, which sits above this module."""
    global _check_adapter, _drop_adapters
    _check_adapter, _drop_adapters = check, drop


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
    if "adapter" in settings and _check_adapter is not None:
        _check_adapter(settings["adapter"], "activejob.configure(adapter=...)")
    for name, value in settings.items():
        setattr(_config, name, value)
    if "adapter" in settings and _drop_adapters is not None:
        _drop_adapters()
    return _config
