from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=40)
    shipped = models.BooleanField(default=False)
    note = models.CharField(max_length=200, default="")
