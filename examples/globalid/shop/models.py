"""The Django half of the GlobalID guide: a model."""

from django.db import models


class Customer(models.Model):
    email = models.EmailField()
