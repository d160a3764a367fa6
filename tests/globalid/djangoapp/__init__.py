"""A tiny Django app for the GlobalID tests (configured in-process by test_django.py)."""
