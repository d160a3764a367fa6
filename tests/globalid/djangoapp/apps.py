"""The app's configuration: label ``gidapp``."""

from __future__ import annotations

from django.apps import AppConfig


class GidAppConfig(AppConfig):
    name = "tests.globalid.djangoapp"
    label = "gidapp"
    default_auto_field = "django.db.models.BigAutoField"
