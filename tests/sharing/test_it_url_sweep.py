"""Every URL that takes a patient id refuses everyone but the patient and their active sharees.

The list of URLs comes from the URL resolver itself, so a page added later is swept too.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from apps.glucose.models import ClarityImportJob, DailySummary, Egv

pytestmark = pytest.mark.django_db

# Pages that change the patient's own data: only the patient may use them, sharees (read-only)
# and staff get the same 404 as strangers.
OWNER_ONLY = [
    "/patients/{patient_id}/import/",
    "/patients/{patient_id}/import/1/",
    "/patients/{patient_id}/import/1/status.json",
]
SAMPLE_VALUES = ["1", "x", "2026-01-01", str(uuid.uuid4()), "egvs"]
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _routes(resolver=None, prefix=""):
    """(route, converters) of every URL pattern, recursively, e.g. 'patients/<int:patient_id>/'."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        route = prefix + (getattr(pattern, "_route", None) or str(pattern).lstrip("^").rstrip("$"))
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, {**getattr(resolver.pattern, "converters", {}), **pattern.converters}


def _sample(converters: dict, name: str) -> str:
    if "day" in name or "date" in name:
        return (timezone.localdate() - timedelta(days=1)).isoformat()
    converter = converters.get(name)
    regex = re.compile(converter.regex) if converter else re.compile(r"[^/]+")
    return next(value for value in SAMPLE_VALUES if regex.fullmatch(value))


def patient_url_templates() -> list[str]:
    """A format string per pattern taking patient_id, e.g. '/patients/{patient_id}/trace/'."""
    templates = []
    for route, converters in _routes():
        if "patient_id" not in route:
            continue
        assert "(?P<" not in route, f"regex URL patterns are not swept yet: {route}"

        def fill(match, converters=converters):
            name = match.group("name")
            return "{patient_id}" if name == "patient_id" else _sample(converters, name)

        templates.append("/" + PARAM.sub(fill, route))
    return sorted(set(templates))


def test_it_finds_the_patient_pages():
    templates = patient_url_templates()
    dashboard_pages = [t for t in templates if t.startswith("/patients/")]
    # The dashboard's pages appear as they are added; once any exists, the core set must.
    if dashboard_pages:
        for page in ["overview", "trace", "agp"]:
            assert f"/patients/{{patient_id}}/{page}/" in templates


def _with_data(patient):
    now = timezone.now()
    for minutes in range(0, 60, 5):
        at = now - timedelta(hours=2, minutes=minutes)
        Egv.objects.create(
            patient=patient,
            record_id=f"r{minutes}",
            system_time=at,
            display_delta_seconds=0,
            value=120 + minutes,
            status="ok",
            unit="mg/dL",
        )
    DailySummary.objects.create(
        patient=patient,
        day=timezone.localdate(),
        readings=12,
        value_sum=12 * 147,
        value_sq_sum=12 * 147 * 147,
        from_70_to_180=12,
        from_70_to_140=5,
        last_reading_at=now,
    )
    return patient


def _query_for(url: str) -> dict:
    """Query parameters some endpoints require, so a sharee gets a real answer, not a 400."""
    if url.rstrip("/").endswith("/metrics"):
        today = timezone.localdate()
        return {"start": (today - timedelta(days=13)).isoformat(), "end": today.isoformat()}
    return {}


def _request(client, url):
    """GET, or POST for views that only take POST (they must refuse the same way)."""
    response = client.get(url, _query_for(url))
    if response.status_code == 405:
        response = client.post(url)
    return response


@pytest.fixture
def sweep(make_user, make_share, patient):
    from apps.sharing.models import Clinic

    target = _with_data(patient)
    people = {
        "other_patient": make_user("other@example.com", "patient"),
        "clinician_without_share": make_user("stranger@example.com", "clinician"),
        "clinician_expired_share": make_user("expired@example.com", "clinician"),
        "clinician_revoked_share": make_user("revoked@example.com", "clinician"),
        "clinician_future_revoked_clinic": make_user("exclinic@example.com", "clinician"),
        "staff_without_permission": make_user("staff@example.com", "admin", is_staff=True),
        "sharee": make_user("sharee@example.com", "clinician"),
        "clinic_member": make_user("member@example.com", "clinician"),
    }
    make_share(target, clinician=people["clinician_expired_share"], expires_in=-timedelta(minutes=1))
    make_share(target, clinician=people["clinician_revoked_share"], revoked=True)
    old_clinic = Clinic.objects.create(name="Former clinic")
    old_clinic.members.add(people["clinician_future_revoked_clinic"])
    make_share(target, clinic=old_clinic, revoked=True)
    make_share(target, clinician=people["sharee"], expires_in=timedelta(days=1))
    clinic = Clinic.objects.create(name="Diabetes clinic")
    clinic.members.add(people["clinic_member"])
    make_share(target, clinic=clinic)
    ClarityImportJob.objects.create(pk=1, patient=target, file_name="a.csv", file_size=1, timezone="UTC")
    return target, people


REFUSED = [
    "other_patient",
    "clinician_without_share",
    "clinician_expired_share",
    "clinician_revoked_share",
    "clinician_future_revoked_clinic",
    "staff_without_permission",
]


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", REFUSED)
def test_it_refuses_everyone_without_an_active_share(client, sweep, viewer):
    target, people = sweep
    client.force_login(people[viewer])
    for template in patient_url_templates():
        url = template.format(patient_id=target.pk)
        response = _request(client, url)
        assert response.status_code == 404, f"{viewer} got {response.status_code} at {url}"


@pytest.mark.django_db
def test_it_refuses_anonymous_visitors(client, sweep):
    target, _ = sweep
    for template in patient_url_templates():
        url = template.format(patient_id=target.pk)
        response = _request(client, url)
        refused = response.status_code == 404 or (
            response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        )
        assert refused, f"anonymous got {response.status_code} at {url}"


@pytest.mark.django_db
def test_it_refuses_unknown_patient_ids_like_existing_ones(client, sweep):
    _, people = sweep
    client.force_login(people["sharee"])
    for template in patient_url_templates():
        assert _request(client, template.format(patient_id=987654)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["sharee", "clinic_member", "patient"])
def test_it_serves_the_patient_and_active_sharees(client, sweep, viewer):
    target, people = sweep
    client.force_login(target if viewer == "patient" else people[viewer])
    for template in patient_url_templates():
        url = template.format(patient_id=target.pk)
        response = _request(client, url)
        expected = 404 if template in OWNER_ONLY and viewer != "patient" else 200
        assert response.status_code == expected, f"{viewer} got {response.status_code} at {url}"


@pytest.mark.django_db
def test_it_serves_staff_with_the_explicit_permission(client, sweep):
    from django.contrib.auth.models import Permission

    target, people = sweep
    staff = people["staff_without_permission"]
    staff.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    client.force_login(staff)
    for template in patient_url_templates():
        response = _request(client, template.format(patient_id=target.pk))
        assert response.status_code == (404 if template in OWNER_ONLY else 200), template


@pytest.mark.urls("tests.sharing.sweep_urls")
def test_it_discovers_new_and_nested_patterns():
    assert patient_url_templates() == [
        "/api/days/1/{patient_id}/",
        "/patients/{patient_id}/new-page/",
    ]


@pytest.mark.django_db
@pytest.mark.urls("tests.sharing.sweep_urls")
def test_it_sweeps_a_page_added_later(client, sweep):
    target, people = sweep
    client.force_login(people["clinician_revoked_share"])
    for template in patient_url_templates():
        assert _request(client, template.format(patient_id=target.pk)).status_code == 404
    client.force_login(people["sharee"])
    for template in patient_url_templates():
        assert _request(client, template.format(patient_id=target.pk)).status_code == 200
