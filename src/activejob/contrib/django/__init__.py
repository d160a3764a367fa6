"""Django integration: ``activejob.contrib.django.mail.EmailBackend`` sends every
Django email through a delivery job."""
