"""Found by the activejob app's autodiscovery (no IMPORTS setting names it)."""

from activejob import Job, RecordNotFound, discard_on
from shop.models import Order


class ShipOrderJob(Job):
    """Takes the order itself: it travels as a GlobalID and is loaded fresh."""

    def perform(self, order: Order) -> None:
        order.shipped = True
        order.note = f"shipped {order.number} (seen as {order.note or 'new'})"
        order.save()


class NoteJob(Job):
    def perform(self, order_id: int, note: str) -> None:
        Order.objects.filter(pk=order_id).update(note=note)


class AuditJob(Job):
    """Enqueued at once even inside an atomic block."""

    enqueue_after_transaction_commit = False

    def perform(self, order_id: int) -> None:
        pass


@discard_on(RecordNotFound)
class ShipIfStillThereJob(ShipOrderJob):
    """A deleted order is no error for this one: the job is discarded."""
