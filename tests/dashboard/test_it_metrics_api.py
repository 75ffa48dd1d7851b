"""GET /api/v1/patients/<id>/metrics: access, bad dates, and the same JSON as the command."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from apps.glucose.metrics import METRIC_KEYS
from tests.glucose import factories

NEW_YORK_EDT = -4 * 3600
NEW_YORK_EST = -5 * 3600


@pytest.fixture
def patient_with_fortnight(patient):
    # 2026-10-20 .. 2026-11-02 in UTC, every 5 minutes, a known pattern.
    values = [39 if i % 97 == 0 else 401 if i % 89 == 0 else 60 + (i * 7) % 250 for i in range(14 * 288)]
    factories.make_egvs(patient, datetime(2026, 10, 20, tzinfo=UTC), values)
    return patient


def api(client, patient, query):
    return client.get(f"/api/v1/patients/{patient.pk}/metrics{query}")


def test_it_returns_the_contract_keys(client, patient_with_fortnight):
    client.force_login(patient_with_fortnight)
    response = api(client, patient_with_fortnight, "?start=2026-10-20&end=2026-11-02")
    assert response.status_code == 200
    data = response.json()
    for key in METRIC_KEYS:
        assert key in data, key
    assert data["readings"] == 14 * 288
    assert data["days"] == 14
    assert data["wear_percent"] == 100
    assert data["conventions"]["sd"].startswith("sample")
    assert len(data["agp"]["p50"]) == 288 and data["agp"]["slot_minutes"][1] == 5


def test_it_agrees_with_the_command(client, patient_with_fortnight):
    client.force_login(patient_with_fortnight)
    from_api = api(client, patient_with_fortnight, "?start=2026-10-22&end=2026-10-30").json()
    out = io.StringIO()
    call_command(
        "glucose_metrics", user=patient_with_fortnight.email, start="2026-10-22", end="2026-10-30", stdout=out
    )
    assert json.loads(out.getvalue()) == from_api


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "start and end are both required"),
        ("?start=2026-13-01&end=2026-11-02", "start must be a date written YYYY-MM-DD"),
        ("?start=2026-11-01&end=yesterday", "end must be a date"),
        ("?start=2026-11-05&end=2026-11-01", "end must not be before start"),
    ],
)
def test_it_refuses_bad_dates_with_a_clear_message(client, patient_with_fortnight, query, message):
    client.force_login(patient_with_fortnight)
    response = api(client, patient_with_fortnight, query)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_it_hides_the_metrics_from_strangers_and_anonymous(client, patient_with_fortnight, make_user):
    assert api(client, patient_with_fortnight, "?start=2026-10-20&end=2026-11-02").status_code == 404
    client.force_login(make_user("stranger@example.com"))
    assert api(client, patient_with_fortnight, "?start=2026-10-20&end=2026-11-02").status_code == 404


@pytest.mark.parametrize(
    ("day", "midnight_utc", "change_utc", "before", "after", "readings"),
    [
        # 2026-11-01 in New York: midnight EDT (04:00 UTC) to midnight EST (05:00 UTC next day).
        (
            "2026-11-01",
            datetime(2026, 11, 1, 4, tzinfo=UTC),
            datetime(2026, 11, 1, 6, tzinfo=UTC),
            NEW_YORK_EDT,
            NEW_YORK_EST,
            300,
        ),
        # 2026-03-08: midnight EST (05:00 UTC) to midnight EDT (04:00 UTC next day).
        (
            "2026-03-08",
            datetime(2026, 3, 8, 5, tzinfo=UTC),
            datetime(2026, 3, 8, 7, tzinfo=UTC),
            NEW_YORK_EST,
            NEW_YORK_EDT,
            276,
        ),
    ],
)
def test_it_counts_a_dst_day_in_real_hours(
    client, make_user, day, midnight_utc, change_utc, before, after, readings
):
    from apps.glucose.models import Egv

    patient = make_user("ny@example.com", timezone="America/New_York")
    moments = [midnight_utc + timedelta(minutes=5 * i) for i in range(readings)]
    Egv.objects.bulk_create(
        [
            factories.egv(patient, at, 150, delta_seconds=before if at < change_utc else after)
            for at in moments
        ]
    )
    client.force_login(patient)
    data = api(client, patient, f"?start={day}&end={day}").json()
    assert data["readings"] == readings  # 25 or 23 hours of readings, all on the local day
    assert data["days"] == 1  # one local day, whatever its hours
    assert data["wear_percent"] == 100  # all the readings a 25 h (300) or 23 h (276) day can have


def test_the_command_names_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"):
        call_command("glucose_metrics", user="nobody@example.com", start="2026-11-01", end="2026-11-02")


def test_it_reports_the_target_set_beside_the_consensus_metrics(client, patient_with_fortnight):
    from apps.glucose import targets
    from apps.glucose.target_choice import TargetsChoice, targets_choose

    client.force_login(patient_with_fortnight)
    standard = api(client, patient_with_fortnight, "?start=2026-10-20&end=2026-11-02").json()
    assert standard["targets"]["set"] == "standard"
    assert standard["targets"]["in_range_percent"] == standard["tir_70_180_percent"]
    choice = TargetsChoice(targets.PREGNANCY_T1)
    targets_choose(patient_id=patient_with_fortnight.pk, choice=choice, actor=None, ip_address=None)
    pregnancy = api(client, patient_with_fortnight, "?start=2026-10-20&end=2026-11-02").json()
    assert pregnancy["tir_70_180_percent"] == standard["tir_70_180_percent"]  # consensus unchanged
    section = pregnancy["targets"]
    assert section["set"] == "pregnancy_t1" and section["range"] == {"low": 63, "high": 140, "unit": "mg/dL"}
    assert section["in_range_percent"] < standard["tir_70_180_percent"]
    assert round(section["below_percent"] + section["in_range_percent"] + section["above_percent"]) == 100
    assert [g["measure"] for g in section["goals"]] == ["very_low", "below", "in_range", "above"]
