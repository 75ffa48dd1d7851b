"""manage.py seed_demo: three working sign-ins, the patient connected and backfilled, a share.

Run twice, it reuses everything. The connecting test goes over HTTP to the emulator served by
pytest-django's live server, as run_demo does with its own web server.
"""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.demo import services

DEMO_EMAILS = ["admin@example.com", "clinician@example.com", "patient@example.com"]


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_demo", *arguments, stdout=out)
    return out.getvalue()


def demo_users():
    return get_user_model().objects.filter(email__in=DEMO_EMAILS).order_by("email")


def test_it_creates_the_three_demo_logins_with_one_password(db):
    output = seed("--skip-dexcom")

    assert services.DEMO_PASSWORD in output.splitlines()[0]
    admin, clinician, patient = demo_users()
    assert (patient.role, patient.full_name, patient.timezone) == (
        "patient",
        "Pat Example",
        "America/New_York",
    )
    assert clinician.role == "clinician"
    assert admin.is_superuser and admin.is_staff
    for user in (admin, clinician, patient):
        assert user.check_password(services.DEMO_PASSWORD)
        assert EmailAddress.objects.get(user=user).verified


def test_the_clinician_and_admin_get_the_demo_second_factor(db):
    seed("--skip-dexcom")

    with_totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP)
    assert sorted(with_totp.values_list("user__email", flat=True)) == [
        "admin@example.com",
        "clinician@example.com",
    ]


def test_a_second_run_reuses_the_users(db):
    seed("--skip-dexcom")
    first_ids = list(demo_users().values_list("pk", flat=True))

    output = seed("--skip-dexcom")

    assert list(demo_users().values_list("pk", flat=True)) == first_ids
    assert EmailAddress.objects.count() == 3
    assert Authenticator.objects.count() == 2
    assert "created" not in output


def test_a_second_run_makes_a_changed_demo_password_work_again(db):
    seed("--skip-dexcom")
    patient = demo_users().get(email="patient@example.com")
    patient.set_password("something-else-entirely")
    patient.save()

    output = seed("--skip-dexcom")

    patient.refresh_from_db()
    assert patient.check_password(services.DEMO_PASSWORD)
    assert "password reset" in output


def test_the_demo_totp_code_matches_allauth(db):
    from allauth.mfa.totp.internal.auth import validate_totp_code

    code, seconds_left = services.demo_totp_code()

    assert 0 < seconds_left <= 30
    assert validate_totp_code(services.DEMO_TOTP_SECRET, code)


@pytest.fixture
def emulator_settings(settings, live_server):
    """Point the Dexcom settings at the emulator this live server serves; a short backfill."""
    settings.DEXWEB_PUBLIC_URL = live_server.url
    settings.DEXCOM_BASE_URL = live_server.url + "/emulator"
    settings.DEXCOM_REDIRECT_URI = live_server.url + "/accounts/dexcom/login/callback/"
    settings.SYNC_BACKFILL_DAYS = 3
    return settings


def test_it_connects_the_patient_backfills_and_shares_then_reuses_all_of_it(emulator_settings):
    from apps.dexcom.models import DexcomConnection
    from apps.glucose.models import Egv
    from apps.sharing.selectors import patients_shared_with

    output = seed()

    admin, clinician, patient = demo_users()
    connection = DexcomConnection.objects.get(user=patient)
    assert connection.status == "active"
    assert connection.backfill_completed_at is not None
    readings = Egv.objects.filter(patient=patient).count()
    assert readings > 2 * 288 * 0.8  # 3 days back, less the emulator's delay and sensor gaps
    assert list(patients_shared_with(clinician)) == [patient]
    assert "Dexcom: connected to SandboxUser1" in output
    assert "now shares with clinician@example.com" in output

    again = seed()

    assert "already connected" in again
    assert "already shares" in again
    assert DexcomConnection.objects.get(user=patient).pk == connection.pk
    assert Egv.objects.filter(patient=patient).count() == readings
