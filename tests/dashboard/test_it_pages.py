"""Every page for a patient with data, without data, and with a broken sync; query counts."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import create_user
from tests.dashboard.conftest import PAGES, seed_patient_data

# Queries per page with data, pinned: session + user (2), connection + newest reading + device
# unit (3), then the page's own reads; none of them grows with the number of records.
# overview: one more than the others for the 24 h mini trace; the pages that shade a range
# (overview, trace, AGP and its PDF) one more for the patient's target set.
MAX_QUERIES = {
    "overview": 8,
    "trace": 10,
    "agp": 7,
    "alerts": 11,
    "events": 6,
    "devices": 8,
    "export": 5,
    "import": 6,
}


@pytest.fixture(scope="module")
def seeded_patient_id(module_db) -> int:
    """One patient with data for the module (4,300 readings: a second to write each time)."""
    return seed_patient_data(create_user("seeded@example.com", "patient")).pk


@pytest.fixture
def patient_with_data(seeded_patient_id, db):
    return get_user_model().objects.get(pk=seeded_patient_id)


def url(page, patient):
    return reverse(page, kwargs={"patient_id": patient.pk})


@pytest.mark.parametrize("page", PAGES)
def test_it_renders_each_page_with_data(client, patient_with_data, page, django_assert_max_num_queries):
    client.force_login(patient_with_data)
    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = client.get(url(page, patient_with_data))
    assert response.status_code == 200
    assert b"Sync failing" not in response.content


@pytest.mark.parametrize("page", PAGES)
def test_it_renders_each_page_without_data(client, patient_without_data, page):
    client.force_login(patient_without_data)
    response = client.get(url(page, patient_without_data))
    assert response.status_code == 200
    assert b"No data yet" in response.content
    assert b'<progress max="100" value="30"' in response.content


@pytest.mark.parametrize("page", PAGES)
def test_it_renders_each_page_with_a_broken_sync(client, patient_with_broken_sync, page):
    client.force_login(patient_with_broken_sync)
    response = client.get(url(page, patient_with_broken_sync))
    assert response.status_code == 200
    assert b"Sync failing" in response.content
    assert b"reconnect your Dexcom account" in response.content
    assert b"newest reading is" in response.content


@pytest.mark.parametrize("page", PAGES)
def test_it_hides_a_patient_from_strangers(client, patient_with_data, make_user, page):
    client.force_login(make_user("stranger@example.com"))
    assert client.get(url(page, patient_with_data)).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, patient_with_data):
    response = client.get(url("overview", patient_with_data))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_reads_alerts_without_a_query_per_alert_or_device(
    client, patient_with_data, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.glucose import factories

    for hours in range(1, 40):
        factories.make_alert(patient_with_data, timezone.now() - timedelta(hours=hours), "low")
    client.force_login(patient_with_data)
    with django_assert_max_num_queries(MAX_QUERIES["alerts"]):
        assert client.get(url("alerts", patient_with_data)).status_code == 200


@pytest.mark.parametrize("page", [p for p in PAGES if p != "import"])
def test_it_shows_a_patient_to_someone_allowed_to_see_them(client, patient_with_data, make_user, page):
    # Support staff with the explicit permission (the sharing app decides who else may look).
    from django.contrib.auth.models import Permission

    staff = make_user("support@example.com", role="admin", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    patient_with_data.full_name = "Pat Example"
    patient_with_data.save()
    client.force_login(staff)
    response = client.get(url(page, patient_with_data))
    assert response.status_code == 200
    assert b"Pat Example" in response.content
    assert f"/patients/{patient_with_data.pk}/import/".encode() not in response.content


def test_only_the_patient_may_import(client, patient_with_data, make_user):
    from django.contrib.auth.models import Permission

    staff = make_user("support@example.com", role="admin", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    client.force_login(staff)
    assert client.get(url("import", patient_with_data)).status_code == 404


@pytest.mark.parametrize(
    ("path", "max_queries"),
    [
        ("trace/day/{today}/", 10),
        ("trace/?days=90", 10),
        ("agp.pdf", 7),
        ("export/?type=egvs", 6),
        # The API also reads the unit the patient reads (it decides the bands) and their
        # target set (its own section, the consensus metrics unchanged).
        ("/api/v1/patients/{pk}/metrics?start={today}&end={today}", 6),
    ],
)
def test_it_pins_the_queries_of_the_other_responses(
    client, patient_with_data, path, max_queries, django_assert_max_num_queries
):
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    path = path.format(today=today, pk=patient_with_data.pk)
    if not path.startswith("/"):
        path = f"/patients/{patient_with_data.pk}/{path}"
    client.force_login(patient_with_data)
    with django_assert_max_num_queries(max_queries):
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200


def test_it_offers_to_connect_dexcom_when_nothing_is_connected(client, patient):
    client.force_login(patient)
    response = client.get(url("overview", patient))
    assert response.status_code == 200
    assert b"No data yet" in response.content
    assert reverse("dexcom:status").encode() in response.content
