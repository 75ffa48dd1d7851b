import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.sharing.models import AuditEntry, Invitation, token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "accounts/user",
        "sharing/clinic",
        "sharing/share",
        "sharing/invitation",
        "sharing/sharecode",
        "sharing/auditentry",
    ],
)
def test_it_lists_and_searches(staff_client, model, patient):
    url = f"/admin/{model}/"
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "patient"}).status_code == 200


def test_it_never_shows_invitation_secrets(staff_client, patient):
    invitation = Invitation.objects.create(
        patient=patient,
        email="doc@example.com",
        secret_hash=token_hash("sekrit-token"),
        expires_at="2099-01-01T00:00:00Z",
    )
    page = staff_client.get(f"/admin/sharing/invitation/{invitation.pk}/change/").content.decode()
    assert "doc@example.com" in page
    assert invitation.secret_hash not in page and "sekrit-token" not in page


def test_it_keeps_audit_entries_read_only(staff_client, patient, clinician):
    entry = AuditEntry.objects.create(
        patient=patient, actor=clinician, actor_email=clinician.email, action="view"
    )
    change = staff_client.get(f"/admin/sharing/auditentry/{entry.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert (
        staff_client.post(f"/admin/sharing/auditentry/{entry.pk}/change/", {"page": "x"}).status_code == 403
    )
    assert (
        staff_client.post(f"/admin/sharing/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert staff_client.get("/admin/sharing/auditentry/add/").status_code == 403
    assert AuditEntry.objects.count() == 1


def test_it_deactivates_users(staff_client, patient, clinician):
    response = staff_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [patient.pk, clinician.pk]},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[patient.pk, clinician.pk], is_active=True).exists()


def test_it_signs_admins_in_through_allauth(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith(reverse("account_login"))
