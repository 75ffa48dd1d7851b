from django.urls import path

from apps.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("v3/oauth2/login", views.oauth_login, name="login"),
    path("v3/oauth2/token", views.oauth_token, name="token"),
    path(
        "v3/users/self/<str:endpoint>",
        views.data_endpoint,
        name="data",
    ),
    path("grants/", views.grants, name="grants"),
    path("faults/", views.fault_panel, name="faults"),
]
