from activejob import Job, RecordNotFound, discard_on
from shop.models import Order


@discard_on(RecordNotFound)  # the order was deleted before the job ran
class ShipOrderJob(Job):
    def perform(self, order: Order) -> None:  # a model travels as its GlobalID
        order.shipped = True
        order.save(update_fields=["shipped"])
