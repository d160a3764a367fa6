"""Importing this module sets Django up (``django.setup()``) if it is not yet.

``manage.py activejob worker`` passes ``--import activejob.contrib.django.boot`` so
that every worker process, its children included, loads Django's settings (from
``DJANGO_SETTINGS_MODULE``) and apps, which imports the ``jobs`` modules of the
installed apps and ``settings.ACTIVEJOB["IMPORTS"]``, before it runs a job. The
plain ``activejob worker --import activejob.contrib.django.boot`` does the same.
"""

from __future__ import annotations

from activejob.contrib.django.adapter import ensure_django

ensure_django()
