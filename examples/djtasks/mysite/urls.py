from django.urls import path
from reports import views

urlpatterns = [
    path("reports", views.start),
    path("reports/async", views.start_async),
    path("reports/<str:result_id>", views.status),
]
