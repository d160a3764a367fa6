"""Django code sending mail as usual: every message becomes a delivery job."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_settings")
django.setup()

from django.core.mail import send_mail  # noqa: E402 - Django is set up first

send_mail("Your order", "It ships today.", None, ["ada@example.com"], fail_silently=False)
print("1 Django email enqueued")
