from django.urls import path

from apps.dashboard import api

urlpatterns = [
    path("patients/<int:patient_id>/metrics", api.metrics, name="api_metrics"),
]
