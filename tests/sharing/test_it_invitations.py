from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.sharing.models import AuditEntry, Invitation, Share, token_hash
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _invite(client, patient, email="newdoc@clinic.org", **extra):
    client.force_login(patient)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("sharing:invitation_create"), {"email": email, **extra})
    assert response.status_code == 302
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/sharing/invitation/" in line)
    client.logout()
    return link.strip().replace("http://testserver", "")


def test_it_emails_a_link_and_stores_only_a_hash(client, patient):
    path = _invite(client, patient)
    token = path.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.secret_hash == token_hash(token)
    assert token not in str(Invitation.objects.values_list()[0])
    assert mail.outbox[0].to == ["newdoc@clinic.org"]
    assert AuditEntry.objects.filter(action="invitation_sent", patient=patient).exists()


def test_it_lets_a_new_clinician_sign_up_through_the_link(client, patient):
    path = _invite(client, patient)
    landing = client.get(path)
    assert landing.status_code == 200
    assert "Create a clinician account" in landing.content.decode()
    signup = client.post(
        reverse("account_signup") + f"?next={path}",
        {"email": "newdoc@clinic.org", "password1": DEMO_PASSWORD, "password2": DEMO_PASSWORD, "next": path},
    )
    assert signup.status_code == 302, signup.content.decode()[:2000]
    doctor = User.objects.get(email="newdoc@clinic.org")
    assert doctor.role == User.Role.CLINICIAN
    # The invited address is trusted (only its owner had the link): signed in at once.
    assert signup["Location"] == path
    # A new clinician must set up TOTP before anything else except the invitation itself.
    accept = client.post(path)
    assert accept.status_code == 302
    share = Share.objects.get()
    assert (share.patient, share.clinician) == (patient, doctor)
    invitation = Invitation.objects.get()
    assert invitation.used_by == doctor and invitation.share == share
    assert client.get(path).status_code == 410
    assert "already been used" in client.get(path).content.decode()


def test_it_lets_an_existing_clinician_accept(client, patient, clinician):
    path = _invite(client, patient, email=clinician.email)
    client.force_login(clinician)
    assert "Accept" in client.get(path).content.decode()
    client.post(path)
    assert Share.objects.get().clinician == clinician
    assert AuditEntry.objects.filter(action="invitation_accepted", actor=clinician).exists()


def test_it_does_not_make_a_patient_account_a_sharee(client, patient, other_patient):
    path = _invite(client, patient)
    client.force_login(other_patient)
    assert client.post(path).status_code == 403
    assert not Share.objects.exists()


def test_it_shows_a_clear_page_for_expired_revoked_and_unknown_links(client, patient, clinician):
    path = _invite(client, patient)
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(clinician)
    response = client.get(path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert client.post(path).status_code == 410
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    assert "withdrawn" in client.get(path).content.decode()
    unknown = client.get(reverse("sharing:invitation", args=["not-a-token"]))
    assert unknown.status_code == 404 and "not found" in unknown.content.decode()
    assert not Share.objects.exists()


def test_it_lets_the_patient_cancel_an_invitation(client, patient):
    path = _invite(client, patient)
    client.force_login(patient)
    client.post(reverse("sharing:invitation_revoke", args=[Invitation.objects.get().pk]))
    client.logout()
    assert client.get(path).status_code == 410


def test_it_does_not_make_visitors_without_an_invitation_clinicians(client):
    client.post(
        reverse("account_signup"),
        {"email": "someone@example.com", "password1": DEMO_PASSWORD, "password2": DEMO_PASSWORD},
    )
    assert User.objects.get(email="someone@example.com").role == User.Role.PATIENT


def test_it_gives_the_share_the_expiry_the_patient_chose(client, patient, clinician):
    day = timezone.localdate() + timedelta(days=10)
    path = _invite(client, patient, email=clinician.email, share_until=day.isoformat())
    client.force_login(clinician)
    client.post(path)
    assert Share.objects.get().expires_at.date() == day + timedelta(days=1)


def test_a_signup_with_dexcom_through_the_link_stays_a_patient(client, patient, rf):
    # Only the signup form makes clinicians: a Dexcom (social) signup carries a sociallogin.
    from types import SimpleNamespace

    from allauth.account.signals import user_signed_up

    from apps.sharing.signup import INVITATION_SESSION_KEY

    path = _invite(client, patient)
    client.get(path)
    request = rf.get("/")
    request.session = client.session
    assert request.session[INVITATION_SESSION_KEY]
    by_dexcom = User.objects.create_user(email="dexcom@example.com", password=DEMO_PASSWORD)
    user_signed_up.send(
        sender=User,
        request=request,
        user=by_dexcom,
        sociallogin=SimpleNamespace(account=SimpleNamespace(provider="google")),
    )
    by_form = User.objects.create_user(email="form@example.com", password=DEMO_PASSWORD)
    user_signed_up.send(sender=User, request=request, user=by_form)
    by_dexcom.refresh_from_db()
    by_form.refresh_from_db()
    assert (by_dexcom.role, by_form.role) == (User.Role.PATIENT, User.Role.CLINICIAN)
