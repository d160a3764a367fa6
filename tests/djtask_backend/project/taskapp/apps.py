import os

from django.apps import AppConfig


class TaskAppConfig(AppConfig):
    name = "taskapp"

    def ready(self) -> None:
        if os.environ.get("AJ_SIGNAL_LOG"):
            from taskapp import signals  # noqa: F401  (connects the receivers)
