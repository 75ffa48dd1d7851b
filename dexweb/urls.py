from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from dexweb import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("dexcom/", include("apps.dexcom.connection_urls")),
    path("sharing/", include("apps.sharing.urls")),
    path("api/v1/", include("apps.dashboard.api_urls")),
    path("", include("apps.dashboard.urls")),
]

# The database being down gives the 503 page, anything else the site's own 500 page.
handler500 = "dexweb.outages.server_error"
handler400 = "dexweb.outages.bad_request"

if settings.EMULATOR_ENABLED:
    urlpatterns.insert(0, path("emulator/", include("apps.sandbox.urls")))
