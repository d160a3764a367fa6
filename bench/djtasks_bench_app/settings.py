"""Settings of the django.tasks benchmark: ``AJ_BENCH_PG_*`` name the database."""

import os

SECRET_KEY = "bench-only"
DEBUG = False  # no query log, no autoreload of db_worker
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "activejob.contrib.django",
    "django_tasks_db",
    "djtasks_bench_app",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["AJ_BENCH_PG_NAME"],
        "HOST": os.environ.get("AJ_BENCH_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("AJ_BENCH_PG_PORT", "5432"),
        "USER": os.environ.get("AJ_BENCH_PG_USER", "postgres"),
    }
}
ACTIVEJOB = {"ADAPTER": "django"}
TASKS = {
    "default": {  # ours
        "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
        "OPTIONS": {"adapter": "django"},
    },
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend"},  # the peer
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
