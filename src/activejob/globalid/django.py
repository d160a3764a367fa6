"""Django models as GlobalIDs: ``gid://<app>/<app_label.ModelName>/<pk>``.

Nothing to configure: any saved instance of a model of an installed app can be
passed to a job, and a worker with Django set up (``django.setup()``) loads it
again. The model name is the model's ``_meta.label`` (``"shop.Order"``) and is
looked up with ``django.apps.apps.get_model``, so only models of
``INSTALLED_APPS`` can be named. Composite primary keys (Django 5.2+) are
supported.

Records are loaded with the model's ``_base_manager``, like Rails' GlobalID
loads records unscoped: a custom default manager that hides rows (soft
deletion) does not make a record "not found". Database routers decide which
database is read.

This module imports Django; activejob imports it only when the application
has imported ``django.db.models`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# No type stubs for Django are required: it is typed as Any here.
from django.apps import apps  # type: ignore[import-untyped, unused-ignore]
from django.core.exceptions import ValidationError  # type: ignore[import-untyped, unused-ignore]
from django.db import connections, models, router  # type: ignore[import-untyped, unused-ignore]
from django.db.backends.base.operations import (  # type: ignore[import-untyped, unused-ignore]
    BaseDatabaseOperations,
)

from activejob.globalid.errors import InvalidGlobalID
from activejob.globalid.model import ModelType, model_id_of
from activejob.globalid.names import ModelId

__all__ = ["DjangoModelType"]

#: Ids per ``pk__in`` query in ``locate_many``.
CHUNK = 500


def is_model(obj: object) -> bool:
    """Whether ``obj`` is a Django model instance."""
    return isinstance(obj, models.Model)


def identify(obj: object) -> tuple[str, ModelId] | None:
    """``(label, pk)`` of a saved model instance, ``None`` for anything else."""
    if not isinstance(obj, models.Model):
        return None
    label = obj._meta.label
    if obj._state.adding:
        raise InvalidGlobalID(f"this {label} is not saved yet: save() it before passing it")
    return label, model_id_of(obj.pk, what=obj)


def model_type_named(name: str) -> DjangoModelType | None:
    """The model of an installed app labelled ``name`` (``"app_label.ModelName"``)."""
    if not apps.ready:
        return None
    try:
        model = apps.get_model(name)
    except (LookupError, ValueError):
        return None
    return DjangoModelType(model._meta.label, model)


def hint() -> str | None:
    """What may be missing when a name is not found."""
    if not apps.ready:
        return "Django's apps are not loaded: call django.setup() in the worker"
    return None


class DjangoModelType(ModelType):
    """A Django model: ``_base_manager.get(pk=...)`` and one ``pk__in`` query per batch."""

    def __init__(self, name: str, model: type[models.Model]) -> None:
        super().__init__(name, model)
        meta = model._meta
        self.fields: list[Any] = list(getattr(meta, "pk_fields", None) or [meta.pk])

    @property
    def manager(self) -> models.Manager[Any]:
        """The manager records are read with."""
        manager: models.Manager[Any] = self.model_class._base_manager
        return manager

    def key(self, model_id: ModelId) -> Any:
        """The ``pk`` value for ``model_id`` (a tuple for a composite key); ``None`` if no
        row can have it."""
        parts = model_id if isinstance(model_id, tuple) else (model_id,)
        if len(parts) != len(self.fields):
            return None
        try:
            values = tuple(
                field.to_python(part) for field, part in zip(self.fields, parts, strict=True)
            )
        except ValidationError:
            return None
        if any(value is None for value in values) or not self.fits(values):
            return None
        return values if len(values) > 1 else values[0]

    def fits(self, values: tuple[Any, ...]) -> bool:
        """Whether integer key parts fit their columns in the database records are read
        from: a driver refuses one that does not (``OverflowError`` on SQLite) instead of
        finding no row. Django's own ranges, as its lookups use them."""
        ops = connections[router.db_for_read(self.model_class)].ops
        for field, value in zip(self.fields, values, strict=True):
            while field.is_relation:  # a parent link or a foreign key as the primary key
                field = field.target_field
            internal_type = field.get_internal_type()
            if not isinstance(value, int) or (
                internal_type not in BaseDatabaseOperations.integer_field_ranges
            ):
                continue
            low, high = ops.integer_field_range(internal_type)
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True

    def locate(self, model_id: ModelId) -> Any:
        key = self.key(model_id)
        if key is None:
            return None
        try:
            return self.manager.get(pk=key)
        except self.model_class.DoesNotExist:
            return None

    def locate_many(self, ids: Sequence[ModelId]) -> list[Any]:
        keys = [self.key(model_id) for model_id in ids]
        wanted = list(dict.fromkeys(key for key in keys if key is not None))
        found: dict[Any, Any] = {}
        for start in range(0, len(wanted), CHUNK):
            for record in self.manager.filter(pk__in=wanted[start : start + CHUNK]):
                found[record.pk] = record
        return [None if key is None else found.get(key) for key in keys]
