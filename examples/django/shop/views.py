from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from shop.jobs import ShipOrderJob
from shop.models import Order


@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        order = Order.objects.create(email=request.POST["email"])
        # Written in this transaction: no job without its order, no order without its job.
        job = ShipOrderJob.perform_later(order)
    return JsonResponse({"order": order.pk, "job_id": job.job_id})
