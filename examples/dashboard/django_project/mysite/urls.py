from django.http import HttpRequest, JsonResponse
from django.urls import path


def home(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"dashboard": "/admin/jobs/", "user": request.user.get_username()})


urlpatterns = [path("", home)]
