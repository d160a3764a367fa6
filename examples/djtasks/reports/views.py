from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from reports.tasks import count_words


@require_POST
def start(request: HttpRequest) -> JsonResponse:
    result = count_words.enqueue(request.POST["text"])
    return JsonResponse({"id": result.id, "status": result.status})


@require_POST
async def start_async(request: HttpRequest) -> JsonResponse:
    result = await count_words.aenqueue(request.POST["text"])
    return JsonResponse({"id": result.id, "status": result.status})


@require_GET
def status(request: HttpRequest, result_id: str) -> JsonResponse:
    result = count_words.get_result(result_id)  # from any process: the worker's record
    body = {"id": result.id, "status": result.status, "attempts": result.attempts}
    if result.status == "SUCCESSFUL":
        body["value"] = result.return_value
    return JsonResponse(body)
