from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.dexcom.models import DexcomConnection
from apps.glucose.models import DailySummary, Egv
from apps.sharing.models import AuditEntry, Share
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_with_data(patient, clinician, make_share):
    now = timezone.now()
    for minutes in range(0, 30, 5):
        Egv.objects.create(
            patient=patient,
            record_id=f"egv-{minutes}",
            system_time=now - timedelta(minutes=minutes),
            display_delta_seconds=0,
            value=110,
        )
    DailySummary.objects.create(
        patient=patient, day=timezone.localdate(), readings=6, value_sum=660, value_sq_sum=6 * 110**2
    )
    DexcomConnection.objects.create(
        user=patient,
        base_url="https://api.dexcom.com",
        access_token_encrypted="gAAAA-encrypted-access",
        refresh_token_encrypted="gAAAA-encrypted-refresh",
    )
    make_share(patient, clinician=clinician)
    AuditEntry.objects.create(patient=patient, actor=clinician, actor_email=clinician.email, action="view")
    return patient


def test_it_says_what_will_be_deleted(client, patient_with_data):
    client.force_login(patient_with_data)
    page = client.get(reverse("account_delete")).content.decode()
    assert "6 glucose readings" in page
    assert "1 Dexcom connection with its stored access tokens" in page
    assert "1 shares of your data" in page


def test_it_wants_the_password(client, patient_with_data):
    client.force_login(patient_with_data)
    response = client.post(reverse("account_delete"), {"password": "nope"})
    assert response.status_code == 400
    assert User.objects.filter(pk=patient_with_data.pk).exists()


def test_it_deletes_the_user_their_data_and_their_dexcom_tokens(client, patient_with_data, clinician):
    client.force_login(patient_with_data)
    response = client.post(reverse("account_delete"), {"password": DEMO_PASSWORD})
    assert response.status_code == 200 and "deleted" in response.content.decode()
    assert not User.objects.filter(email="patient@example.com").exists()
    assert not Egv.objects.exists() and not DailySummary.objects.exists()
    assert not DexcomConnection.objects.exists()
    assert not Share.objects.exists() and not AuditEntry.objects.exists()
    assert User.objects.filter(pk=clinician.pk).exists()
    assert "_auth_user_id" not in client.session


def test_it_keeps_patients_data_when_a_clinician_leaves_for_good(client, patient_with_data, clinician):
    client.force_login(clinician)
    client.post(reverse("account_delete"), {"password": DEMO_PASSWORD})
    assert not Share.objects.exists()
    assert Egv.objects.filter(patient=patient_with_data).count() == 6
    entry = AuditEntry.objects.get()  # the patient's trail still says who looked
    assert entry.actor is None and entry.actor_email == "clinician@example.com"
