"""Settings of the django.tasks test project; the database comes from the environment,
so one project runs on SQLite, PostgreSQL and MariaDB:

* ``AJ_DJANGO_ENGINE``: ``sqlite3`` (default), ``postgresql`` or ``mysql``
* ``AJ_DJANGO_NAME``: the SQLite file, or the server database's name
* ``AJ_DJANGO_HOST`` / ``AJ_DJANGO_PORT`` / ``AJ_DJANGO_USER``
* ``AJ_TASKS_ADAPTER``: the backend's adapter (default ``django``)
"""

import os

SECRET_KEY = "test-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "activejob.contrib.django",
    "taskapp",
]

_ENGINE = os.environ.get("AJ_DJANGO_ENGINE", "sqlite3")
DATABASES = {
    "default": {
        "ENGINE": f"django.db.backends.{_ENGINE}",
        "NAME": os.environ["AJ_DJANGO_NAME"],
        "HOST": os.environ.get("AJ_DJANGO_HOST", ""),
        "PORT": os.environ.get("AJ_DJANGO_PORT", ""),
        "USER": os.environ.get("AJ_DJANGO_USER", ""),
    }
}
if _ENGINE == "sqlite3":
    # WAL from the first connection: readers (the worker) never wait for writers.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL"}

ACTIVEJOB = {"ADAPTER": os.environ.get("AJ_TASKS_ADAPTER", "django")}
TASKS = {
    "default": {
        "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
        "QUEUES": ["default", "queue-1"],
        "OPTIONS": {"adapter": os.environ.get("AJ_TASKS_ADAPTER", "django")},
    },
    "inline": {
        "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
        "QUEUES": [],
        "OPTIONS": {"adapter": "inline:"},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
