"""Django's task framework (``django.tasks``, or the ``django-tasks`` backport) on
activejob: ``@task``, ``.enqueue()``, ``.aenqueue()``, ``.using()`` and
``get_result()`` store tasks with an activejob adapter and run them in
``manage.py activejob worker``.

Example::

    # settings.py
    INSTALLED_APPS = [..., "activejob.contrib.django"]
    TASKS = {
        "default": {
            "BACKEND": "activejob.contrib.django.tasks.ActiveJobBackend",
            "OPTIONS": {"adapter": "django"},
        }
    }

See ``docs/django.md`` ("django.tasks") for the mapping of states, priorities,
errors and return values, and the rule on which tasks a worker runs.
"""

from __future__ import annotations

from activejob.contrib.django.tasks.backend import ActiveJobBackend, priority_for
from activejob.contrib.django.tasks.bridge import UnregisteredTaskError

__all__ = ["ActiveJobBackend", "UnregisteredTaskError", "priority_for"]
