"""Models with every kind of primary key, and one whose default manager hides rows."""

from __future__ import annotations

import uuid
from typing import Any

import django
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Tag(models.Model):
    slug = models.CharField(max_length=50, primary_key=True)


class Device(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)


class Counter(models.Model):
    """A 16-bit key: PostgreSQL refuses a wider integer compared with it."""

    id = models.SmallIntegerField(primary_key=True)


class Event(models.Model):
    id = models.BigIntegerField(primary_key=True)


class VisibleManager(models.Manager):  # type: ignore[type-arg]
    def get_queryset(self) -> Any:
        return super().get_queryset().filter(hidden=False)


class Note(models.Model):
    """Soft-deletable: its default manager hides hidden notes."""

    text = models.CharField(max_length=50)
    hidden = models.BooleanField(default=False)

    objects = VisibleManager()
    every = models.Manager()


if django.VERSION >= (5, 2):

    class Seat(models.Model):
        pk = models.CompositePrimaryKey("event", "number")
        event = models.CharField(max_length=50)
        number = models.IntegerField()
