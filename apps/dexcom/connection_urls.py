"""The patient's connection pages, mounted at /dexcom/."""

from django.urls import path

from apps.dexcom import views

app_name = "dexcom"

urlpatterns = [
    path("", views.connection_status, name="status"),
    path("sync/", views.sync_now, name="sync_now"),
    path("disconnect/", views.disconnect_view, name="disconnect"),
]
