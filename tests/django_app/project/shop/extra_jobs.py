"""Imported through settings.ACTIVEJOB["IMPORTS"] (it is not a jobs module)."""

from activejob import Job
from shop.models import Order


class ExtraNoteJob(Job):
    def perform(self, order: Order) -> None:
        order.note = "extra"
        order.save()
