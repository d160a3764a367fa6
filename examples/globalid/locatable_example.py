"""GlobalID for your own classes: implement Locatable and register the class.

Run it from anywhere: ``python examples/globalid/locatable_example.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import activejob
from activejob import Job
from activejob.globalid import GlobalID, locate, register_model

INVOICES = {"7": 120, "8": 75}  # stands in for a database or a remote API


@register_model(name="Invoice")  # the name written into GlobalIDs
@dataclass
class Invoice:
    id: str
    total: int

    @classmethod
    def locate(cls, id: str) -> Invoice | None:  # the id comes back as text
        total = INVOICES.get(id)
        return None if total is None else cls(id, total)


class ChargeJob(Job):
    def perform(self, invoice: Invoice) -> None:
        print(f"charging {invoice.total} for invoice {invoice.id}")


activejob.configure(app="billing", adapter="inline:")

print(GlobalID.create(Invoice("7", 120)))  # gid://billing/Invoice/7
print(locate("gid://billing/Invoice/8"))  # Invoice(id='8', total=75)
invoice = Invoice("7", 120)
INVOICES["7"] = 130  # changed after we read it: the job loads it again
ChargeJob.perform_later(invoice)  # charging 130 for invoice 7
