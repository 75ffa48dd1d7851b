import pytest
from django.urls import reverse

from apps.sharing.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entry(patient, actor):
    return AuditEntry.objects.create(
        patient=patient, actor=actor, actor_email=actor.email, action="view", page="overview"
    )


def test_it_refuses_updates(patient, clinician):
    entry = _entry(patient, clinician)
    entry.page = "trace"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(page="trace")
    assert AuditEntry.objects.get().page == "overview"


def test_it_refuses_deletes(patient, clinician):
    entry = _entry(patient, clinician)
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_it_keeps_the_actors_address_after_their_account_is_gone(patient, clinician):
    _entry(patient, clinician)
    clinician.delete()
    entry = AuditEntry.objects.get()
    assert entry.actor is None and entry.actor_email == "clinician@example.com"


def test_it_writes_an_entry_per_dashboard_page_a_sharee_opens(client, patient, clinician, make_share):
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    for page in ["overview", "trace", "agp"]:
        assert client.get(f"/patients/{patient.pk}/{page}/", HTTP_USER_AGENT="Firefox").status_code == 200
    entries = AuditEntry.objects.filter(patient=patient, actor=clinician, action="view")
    assert sorted(entries.values_list("page", flat=True)) == ["agp", "overview", "trace"]
    assert {e.user_agent for e in entries} == {"Firefox"}
    assert {e.ip_address for e in entries} == {"127.0.0.1"}


def test_it_does_not_record_the_patient_looking_at_their_own_data(client, patient):
    client.force_login(patient)
    client.get(f"/patients/{patient.pk}/overview/")
    assert not AuditEntry.objects.exists()


def test_it_shows_the_patient_who_saw_their_data(client, patient, clinician, other_patient, make_share):
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    client.get(f"/patients/{patient.pk}/trace/")
    _entry(other_patient, clinician)  # about someone else: not shown
    client.force_login(patient)
    response = client.get(reverse("sharing:audit_log"))
    assert response.status_code == 200
    entries = list(response.context["page"].object_list)
    assert [(e.actor_email, e.page) for e in entries] == [(clinician.email, "trace")]
    assert clinician.email in response.content.decode()


def test_it_records_share_changes(client, patient, clinician, make_share):
    share = make_share(patient, clinician=clinician)
    client.force_login(patient)
    client.post(reverse("sharing:share_revoke", args=[share.pk]))
    assert AuditEntry.objects.filter(action="share_revoked").count() == 1
    page = client.get(reverse("sharing:audit_log")).content.decode()
    assert "Share revoked" in page


def test_it_shows_a_banner_on_pages_a_clinician_views(client, patient, clinician, make_share):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = clinician
    html = render_to_string("sharing/_viewing_banner.html", {"patient": patient}, request=request)
    assert "You are viewing the data of" in html and patient.display_name in html
    request.user = patient
    assert "viewing" not in render_to_string(
        "sharing/_viewing_banner.html", {"patient": patient}, request=request
    )


def _view_overview(client, patient, **headers):
    assert client.get(f"/patients/{patient.pk}/overview/", **headers).status_code == 200
    return AuditEntry.objects.filter(patient=patient, action="view").latest("at")


def test_it_records_the_address_the_trusted_proxy_saw(client, patient, clinician, make_share, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    # The client wrote 1.2.3.4 itself; our proxy appended the address it really came from.
    entry = _view_overview(
        client, patient, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    assert entry.ip_address == "203.0.113.9"


def test_it_ignores_a_forged_forwarded_for_without_a_trusted_proxy(
    client, patient, clinician, make_share, settings
):
    settings.PRODUCTION = True  # production once read the header's first entry
    settings.TRUSTED_PROXY_COUNT = 0
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    entry = _view_overview(client, patient, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert entry.ip_address == "203.0.113.9"


def _views_of(patient):
    return list(AuditEntry.objects.filter(patient=patient, action="view").values_list("page", flat=True))


def test_it_records_nothing_for_a_clinician_whose_share_was_revoked(client, patient, clinician, make_share):
    make_share(patient, clinician=clinician, revoked=True)
    client.force_login(clinician)
    for page in ("overview", "trace", "trace/day/2026-11-10", "export/?all=1"):
        assert client.get(f"/patients/{patient.pk}/{page}/").status_code == 404
    assert _views_of(patient) == []


@pytest.mark.parametrize(
    "url",
    [
        "trace/day/not-a-day/",  # an unknown day
        "export/?type=secrets",  # an unknown sub-page of the export
        "import/",  # only the patient may import
        "nothing-here/",  # no such page at all
    ],
)
def test_it_records_nothing_for_a_refused_page_of_a_shared_patient(
    client, patient, clinician, make_share, url
):
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    assert client.get(f"/patients/{patient.pk}/{url}").status_code == 404
    assert _views_of(patient) == []


def test_it_records_a_served_page_exactly_once_and_not_the_redirect_to_it(
    client, patient, clinician, make_share
):
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    response = client.get(f"/patients/{patient.pk}/trace/?day=2026-11-10")
    assert response.status_code == 302 and _views_of(patient) == []
    assert client.get(response["Location"]).status_code == 200
    assert _views_of(patient) == ["trace"]


def test_it_refuses_to_start_without_the_audit_middleware(settings):
    from apps.sharing.apps import AUDIT_MIDDLEWARE, audit_middleware_installed

    assert audit_middleware_installed(None) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != AUDIT_MIDDLEWARE]
    assert [error.id for error in audit_middleware_installed(None)] == ["sharing.E001"]
