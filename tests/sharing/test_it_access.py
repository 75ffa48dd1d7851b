from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from apps.sharing.access import AuditServedViewsMiddleware, patient_for_viewer
from apps.sharing.models import AuditEntry, Clinic

pytestmark = pytest.mark.django_db


def _request(user):
    request = RequestFactory().get("/patients/1/overview/", HTTP_USER_AGENT="pytest-browser")
    request.user = user
    return request


def _served(request, patient_id, *, page):
    """patient_for_viewer inside a view that serves a page, through the audit middleware."""
    seen = []

    def view(request):
        seen.append(patient_for_viewer(request, patient_id, page=page))
        assert not AuditEntry.objects.exists()  # not yet: only once the page is served
        return HttpResponse("the page")

    AuditServedViewsMiddleware(view)(request)
    return seen[0]


def test_it_lets_patients_see_themselves_without_an_audit_entry(patient):
    assert patient_for_viewer(_request(patient), patient.pk, page="overview") == patient
    assert AuditEntry.objects.count() == 0


def test_it_refuses_anonymous_and_unknown(patient):
    with pytest.raises(Http404):
        patient_for_viewer(_request(AnonymousUser()), patient.pk, page="overview")
    with pytest.raises(Http404):
        patient_for_viewer(_request(patient), patient.pk + 1000, page="overview")


def test_it_lets_an_active_sharee_in_and_records_the_look(patient, clinician, make_share):
    make_share(patient, clinician=clinician)

    assert _served(_request(clinician), patient.pk, page="trace") == patient
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.patient, entry.page, entry.action) == (clinician, patient, "trace", "view")
    assert entry.actor_email == clinician.email
    assert entry.ip_address == "127.0.0.1"
    assert entry.user_agent == "pytest-browser"


def test_it_lets_clinic_members_in(patient, clinician, make_share):
    clinic = Clinic.objects.create(name="North")
    clinic.members.add(clinician)
    make_share(patient, clinic=clinic)
    assert patient_for_viewer(_request(clinician), patient.pk, page="agp") == patient


def test_it_refuses_a_clinic_share_after_the_clinician_leaves_the_clinic(patient, clinician, make_share):
    clinic = Clinic.objects.create(name="North")
    clinic.members.add(clinician)
    make_share(patient, clinic=clinic)
    clinic.members.remove(clinician)
    with pytest.raises(Http404):
        patient_for_viewer(_request(clinician), patient.pk, page="agp")


@pytest.mark.parametrize("kind", ["expired", "revoked"])
def test_it_refuses_ended_shares(patient, clinician, make_share, kind):
    if kind == "expired":
        make_share(patient, clinician=clinician, expires_in=-timedelta(seconds=1))
    else:
        make_share(patient, clinician=clinician, revoked=True)
    with pytest.raises(Http404):
        patient_for_viewer(_request(clinician), patient.pk, page="overview")
    assert AuditEntry.objects.count() == 0


def test_it_notices_revocation_on_the_next_call(patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    patient_for_viewer(_request(clinician), patient.pk, page="overview")
    share.revoked_at = share.created_at
    share.save()
    with pytest.raises(Http404):
        patient_for_viewer(_request(clinician), patient.pk, page="overview")


def test_it_refuses_deactivated_clinicians(patient, clinician, make_share):
    make_share(patient, clinician=clinician)
    clinician.is_active = False
    clinician.save()
    with pytest.raises(Http404):
        patient_for_viewer(_request(clinician), patient.pk, page="overview")


def test_it_needs_staff_and_the_explicit_permission(patient, make_user):
    staff = make_user("staff@example.com", "admin", is_staff=True)
    with pytest.raises(Http404):
        patient_for_viewer(_request(staff), patient.pk, page="overview")
    staff.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    staff = type(staff).objects.get(pk=staff.pk)  # fresh permission cache
    assert _served(_request(staff), patient.pk, page="overview") == patient
    assert AuditEntry.objects.get().actor == staff


def test_it_does_not_let_the_permission_work_without_staff(patient, make_user):
    helper = make_user("helper@example.com", "clinician")
    helper.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    helper = type(helper).objects.get(pk=helper.pk)
    with pytest.raises(Http404):
        patient_for_viewer(_request(helper), patient.pk, page="overview")
