"""A Django project's mail settings (run by docs/mail.md's tests)."""

EMAIL_BACKEND = "activejob.contrib.django.mail.EmailBackend"
ACTIVEJOB_MAIL_URL = "console:"  # or smtp://user:password@smtp.example.com:587?starttls=true
DEFAULT_FROM_EMAIL = "shop@example.com"
