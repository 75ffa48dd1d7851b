import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_tells_a_clinician_whose_data_the_page_shows(client, patient, clinician, make_share):
    make_share(patient, clinician=clinician)
    client.force_login(clinician)
    response = client.get(reverse("overview", args=[patient.pk]))
    assert response.status_code == 200
    assert b'class="viewing-banner"' in response.content
    assert patient.display_name.encode() in response.content


def test_it_shows_no_banner_to_the_patient(client, patient):
    client.force_login(patient)
    response = client.get(reverse("overview", args=[patient.pk]))
    assert response.status_code == 200
    assert b'class="viewing-banner"' not in response.content
