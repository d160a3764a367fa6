"""``manage.py scenario NAME [ARGS]``: what the tests drive inside a real Django
process; prints one JSON document."""

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

import activejob
from activejob.adapters.durable import storage_of
from activejob.adapters.test import TestAdapter
from shop.jobs import AuditJob, NoteJob, ShipIfStillThereJob, ShipOrderJob
from shop.models import Order


class Boom(Exception):
    pass


def visible(job: activejob.Job) -> bool:
    """Whether the job is enqueued, as a worker (another connection) would see it."""
    adapter = job.adapter()
    if isinstance(adapter, TestAdapter):
        return job.job_id in {r.job_id for r in adapter.enqueued_jobs}
    return storage_of(adapter).get(job.job_id) is not None


def transactions() -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with transaction.atomic():
        order = Order.objects.create(number="commit")
        job = NoteJob.perform_later(order.pk, "committed")
        seen["commit_inside"] = visible(job)
    seen["commit_after"] = visible(job)

    try:
        with transaction.atomic():
            order = Order.objects.create(number="rollback")
            job = NoteJob.perform_later(order.pk, "rolled back")
            raise Boom
    except Boom:
        pass
    seen["rollback_after"] = visible(job)
    seen["rollback_orders"] = Order.objects.filter(number="rollback").count()

    with transaction.atomic():
        order = Order.objects.create(number="nested")
        outer = NoteJob.perform_later(order.pk, "outer")
        try:
            with transaction.atomic():
                inner = NoteJob.perform_later(order.pk, "inner")
                raise Boom
        except Boom:
            pass
        after = NoteJob.perform_later(order.pk, "after savepoint")
    seen["nested"] = [visible(outer), visible(inner), visible(after)]

    try:
        with transaction.atomic():
            audit = AuditJob.perform_later(0)
            seen["override_inside"] = visible(audit)
            raise Boom
    except Boom:
        pass
    seen["override_after_rollback"] = visible(audit)

    with transaction.atomic():
        jobs = [NoteJob(0, "bulk"), NoteJob(0, "bulk")]
        seen["bulk_now"] = activejob.perform_all_later(jobs)
        seen["bulk_inside"] = [visible(j) for j in jobs]
    seen["bulk_after"] = [visible(j) for j in jobs]
    return seen


class Command(BaseCommand):
    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name")
        parser.add_argument("rest", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        name, rest = options["name"], options["rest"]
        if name == "adapter":
            result: Any = str(NoteJob(0, "").adapter())
        elif name == "transactions":
            if rest:
                activejob.configure(adapter=rest[0])
            result = transactions()
        elif name in ("enqueue", "enqueue-lenient"):
            # Each order's note changes after the enqueue: the job must see the new one.
            job_class = ShipOrderJob if name == "enqueue" else ShipIfStillThereJob
            result = []
            for number in rest:
                order = Order.objects.create(number=number)
                job = job_class.perform_later(order)
                Order.objects.filter(pk=order.pk).update(note="edited")
                result.append({"order": order.pk, "job_id": job.job_id})
        elif name == "enqueue-extra":
            # ExtraNoteJob is only importable in the worker through IMPORTS.
            from shop.extra_jobs import ExtraNoteJob

            order = Order.objects.create(number=rest[0])
            result = ExtraNoteJob.perform_later(order).job_id
        elif name == "refused":
            from activejob.contrib.django.adapter import DjangoAdapter

            result = []
            for url in rest:
                try:
                    DjangoAdapter.from_url(url)
                except activejob.ConfigurationError as exc:
                    result.append(str(exc))
        elif name == "delete":
            result = Order.objects.filter(number__in=rest).delete()[0]
        elif name == "orders":
            result = [
                {"number": o.number, "shipped": o.shipped, "note": o.note}
                for o in Order.objects.order_by("pk")
            ]
        else:
            raise ValueError(name)
        self.stdout.write(json.dumps(result))
