from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "change-me"
DEBUG = True
ALLOWED_HOSTS: list[str] = []
ROOT_URLCONF = "mysite.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "activejob.contrib.django",  # settings.ACTIVEJOB, jobs.py discovery, manage.py activejob
    "shop",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        # WAL: the worker reads while the site writes (Django >= 5.1).
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL"},
    }
}

ACTIVEJOB = {
    "ADAPTER": "django",  # jobs in the default database, tables by `manage.py migrate`
    "QUEUE_NAME_PREFIX": "shop",
}
