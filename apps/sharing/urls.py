from django.urls import path

from apps.sharing import views

app_name = "sharing"

urlpatterns = [
    path("", views.sharing, name="sharing"),
    path("invite/", views.invitation_create, name="invitation_create"),
    path("codes/new/", views.share_code_create, name="share_code_create"),
    path("clinics/share/", views.clinic_share_create, name="clinic_share_create"),
    path("shares/<int:share_id>/expiry/", views.share_set_expiry, name="share_set_expiry"),
    path("shares/<int:share_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("codes/<int:share_code_id>/revoke/", views.share_code_revoke, name="share_code_revoke"),
    path("who-saw-my-data/", views.audit_log, name="audit_log"),
    path("triage/", views.triage_list, name="triage"),
    path("enter-code/", views.enter_share_code, name="enter_code"),
    path("patients/", views.received_shares, name="received"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
