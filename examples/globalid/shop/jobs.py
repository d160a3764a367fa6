"""A job that takes a Django model instance."""

from activejob import Job, RecordNotFound, discard_on
from shop.models import Customer


def report_dropped(job: Job, exc: BaseException) -> None:
    print(f"dropped: {exc}")


# A customer deleted before the job ran: nothing to send, drop the job.
@discard_on(RecordNotFound, on_discard=report_dropped)
class ReceiptJob(Job):
    def perform(self, customer: Customer) -> None:
        print(f"receipt to {customer.email}")
