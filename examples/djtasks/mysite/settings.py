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
    "activejob.contrib.django",  # the tables (manage.py migrate) and manage.py activejob
    "reports",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL"},
    }
}

TASKS = {
    "default": {
        "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
        "OPTIONS": {"adapter": "django"},  # tasks in the default database
    }
}
