from datetime import timedelta

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apps.sharing import services
from apps.sharing.access import patient_for_viewer
from apps.sharing.audit_context import AuditContext
from apps.sharing.models import AuditEntry, Clinic, Share

pytestmark = pytest.mark.django_db


def _can_see(viewer, patient) -> bool:
    request = RequestFactory().get("/")
    request.user = viewer
    try:
        patient_for_viewer(request, patient.pk, page="overview")
    except Http404:
        return False
    return True


def test_it_lists_shares_with_their_expiry(client, patient, clinician, make_share):
    make_share(patient, clinician=clinician, expires_in=timedelta(days=3))
    client.force_login(patient)
    response = client.get(reverse("sharing:sharing"))
    assert response.status_code == 200
    assert clinician.email in response.content.decode()
    assert "active" in response.content.decode()


def test_it_is_for_patients_only(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("sharing:sharing")).status_code == 404


def test_it_revokes_at_once(client, patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    assert _can_see(clinician, patient)
    client.force_login(patient)
    response = client.post(reverse("sharing:share_revoke", args=[share.pk]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_at is not None and share.revoked_by == patient
    assert not _can_see(clinician, patient)
    assert AuditEntry.objects.filter(action="share_revoked", patient=patient, actor=patient).exists()


def test_it_revokes_for_the_very_next_page_of_a_logged_in_clinician(client, patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    clinician_client = type(client)()
    clinician_client.force_login(clinician)
    client.force_login(patient)
    client.post(reverse("sharing:share_revoke", args=[share.pk]))
    response = clinician_client.get(reverse("sharing:triage"))
    assert patient.email not in response.content.decode()


def test_it_sets_an_expiry_at_the_end_of_the_chosen_day(client, patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    client.force_login(patient)
    day = timezone.localdate() + timedelta(days=5)
    client.post(reverse("sharing:share_set_expiry", args=[share.pk]), {"share_until": day.isoformat()})
    share.refresh_from_db()
    assert share.expires_at.date() == day + timedelta(days=1)
    assert AuditEntry.objects.filter(action="share_changed").exists()


def test_it_refuses_to_touch_someone_elses_share(client, patient, other_patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    client.force_login(other_patient)
    assert client.post(reverse("sharing:share_revoke", args=[share.pk])).status_code == 404
    assert client.post(reverse("sharing:share_set_expiry", args=[share.pk])).status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_it_lets_a_clinician_leave(client, patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    client.force_login(clinician)
    page = client.get(reverse("sharing:received"))
    assert patient.email in page.content.decode() or patient.display_name in page.content.decode()
    response = client.post(reverse("sharing:share_revoke", args=[share.pk]))
    assert response.status_code == 302
    assert not _can_see(clinician, patient)
    assert AuditEntry.objects.filter(action="share_left", actor=clinician, patient=patient).exists()


def test_it_shares_with_a_whole_clinic(client, patient, make_user):
    clinic = Clinic.objects.create(name="Diabetes centre")
    first, second = make_user("a@clinic.org", "clinician"), make_user("b@clinic.org", "clinician")
    clinic.members.add(first, second)
    client.force_login(patient)
    response = client.post(reverse("sharing:clinic_share_create"), {"clinic": clinic.pk})
    assert response.status_code == 302
    assert Share.objects.get().clinic == clinic
    assert _can_see(first, patient) and _can_see(second, patient)
    later = make_user("c@clinic.org", "clinician")
    clinic.members.add(later)
    assert _can_see(later, patient)


def test_it_keeps_one_open_share_per_clinician(patient, clinician):
    audit = AuditContext(actor=patient)
    first = services.share_create(audit=audit, patient=patient, clinician=clinician)
    later = timezone.now() + timedelta(days=2)
    second = services.share_create(audit=audit, patient=patient, clinician=clinician, expires_at=later)
    assert first.pk == second.pk and Share.objects.count() == 1
    services.share_revoke(audit=audit, share=second)
    third = services.share_create(audit=audit, patient=patient, clinician=clinician)
    assert third.pk != first.pk and third.is_active


def test_it_refuses_to_share_with_a_patient(patient, other_patient):
    with pytest.raises(services.SharingError):
        services.share_create(audit=AuditContext(actor=patient), patient=patient, clinician=other_patient)
