"""The ``activejob.contrib.django`` app: activejob configured from ``settings.ACTIVEJOB``.

Add it to ``INSTALLED_APPS``; when Django starts, :meth:`ActiveJobConfig.ready`
configures activejob from the ``ACTIVEJOB`` setting, imports the ``jobs`` module of
every installed app that has one (as the admin autodiscovers ``admin`` modules),
then the modules named in ``IMPORTS``, and makes enqueues inside
``transaction.atomic()`` wait for the commit (see :mod:`.transactions`).

``ACTIVEJOB`` keys (all optional):

* ``ADAPTER``: an adapter URL; ``"django"`` (the default here) or ``"django://ALIAS"``
  stores jobs in Django's own database.
* ``IMPORTS``: modules to import at startup (and in every worker process).
* ``QUEUE_NAME_PREFIX``, ``DEFAULT_QUEUE_NAME``, ``APP``: as in ``activejob.configure``.
* ``ENQUEUE_AFTER_TRANSACTION_COMMIT``: ``True`` (default) or ``False``.
* ``AUTODISCOVER``: ``False`` to skip importing ``jobs`` modules.

Example::

    INSTALLED_APPS = [..., "activejob.contrib.django"]
    ACTIVEJOB = {"ADAPTER": "django", "QUEUE_NAME_PREFIX": "shop"}
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import AppConfig, apps  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.utils.module_loading import (  # type: ignore[import-untyped, unused-ignore]
    module_has_submodule,
)

from activejob.errors import ConfigurationError

__all__ = ["ActiveJobConfig", "adapter_setting", "autodiscover", "configure_from_settings"]

KNOWN_KEYS = frozenset(
    {
        "ADAPTER",
        "IMPORTS",
        "QUEUE_NAME_PREFIX",
        "DEFAULT_QUEUE_NAME",
        "APP",
        "ENQUEUE_AFTER_TRANSACTION_COMMIT",
        "AUTODISCOVER",
    }
)
DEFAULT_ADAPTER = "django://default"


def _setting() -> dict[str, Any]:
    value = getattr(settings, "ACTIVEJOB", None) or {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"settings.ACTIVEJOB must be a dict, got {type(value).__name__}")
    unknown = set(value) - KNOWN_KEYS
    if unknown:
        raise ConfigurationError(
            f"settings.ACTIVEJOB has unknown key(s) {', '.join(sorted(unknown))}; "
            f"the keys are {', '.join(sorted(KNOWN_KEYS))}"
        )
    return value


def adapter_setting() -> str:
    """The adapter URL ``settings.ACTIVEJOB["ADAPTER"]`` names (``"django"`` spelled
    out as ``"django://default"``)."""
    url = _setting().get("ADAPTER") or DEFAULT_ADAPTER
    if not isinstance(url, str):
        raise ConfigurationError('settings.ACTIVEJOB["ADAPTER"] must be an adapter URL string')
    return DEFAULT_ADAPTER if url.lower() in ("django", "django:") else url


def imports_setting() -> list[str]:
    """The modules ``settings.ACTIVEJOB["IMPORTS"]`` names."""
    names = _setting().get("IMPORTS") or []
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ConfigurationError('settings.ACTIVEJOB["IMPORTS"] must be a list of module names')
    return list(names)


def configure_from_settings() -> None:
    """``activejob.configure(...)`` from ``settings.ACTIVEJOB``."""
    import activejob

    value = _setting()
    options: dict[str, Any] = {"adapter": adapter_setting()}
    for key, name in (
        ("QUEUE_NAME_PREFIX", "queue_name_prefix"),
        ("DEFAULT_QUEUE_NAME", "default_queue_name"),
        ("APP", "app"),
        ("ENQUEUE_AFTER_TRANSACTION_COMMIT", "enqueue_after_transaction_commit"),
    ):
        if key in value:
            options[name] = value[key]
    activejob.configure(**options)


def autodiscover(module_name: str = "jobs") -> list[str]:
    """Import ``<app>.jobs`` of every installed app that has one; returns their names.
    An error inside such a module propagates (a broken ``jobs.py`` must not be skipped
    silently)."""
    found: list[str] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, module_name):
            name = f"{config.name}.{module_name}"
            importlib.import_module(name)
            found.append(name)
    return found


class ActiveJobConfig(AppConfig):  # type: ignore[misc, unused-ignore]
    """Configures activejob when Django starts."""

    name = "activejob.contrib.django"
    label = "activejob"
    verbose_name = "Active Job"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from activejob.contrib.django import transactions
        from activejob.transaction import defer_enqueues

        configure_from_settings()
        defer_enqueues(transactions.defer_until_commit)
        if _setting().get("AUTODISCOVER", True):
            autodiscover()
        for name in imports_setting():
            importlib.import_module(name)
        if _uses_task_backend():
            # Before any worker starts: the bridge learns the worker's id from its start.
            importlib.import_module("activejob.contrib.django.tasks.bridge")


def _uses_task_backend() -> bool:
    """Whether ``settings.TASKS`` names the ``django.tasks`` backend of activejob."""
    backends = getattr(settings, "TASKS", None) or {}
    return isinstance(backends, dict) and any(
        isinstance(options, dict)
        and str(options.get("BACKEND", "")).startswith("activejob.contrib.django.tasks")
        for options in backends.values()
    )
