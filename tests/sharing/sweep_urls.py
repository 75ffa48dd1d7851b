"""A URLconf for checking that the sweep discovers nested, later-added patient pages."""

from django.http import HttpResponse
from django.urls import include, path

from apps.sharing.access import patient_for_viewer


def page(request, patient_id, **kwargs):
    patient_for_viewer(request, patient_id, page="test")
    return HttpResponse("ok")


nested = [path("days/<str:label>/<int:patient_id>/", page)]
urlpatterns = [
    path("patients/<int:patient_id>/new-page/", page),
    path("api/", include((nested, "nested"))),
    path("unrelated/<int:pk>/", page),
]
