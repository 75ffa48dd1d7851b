"""The alarm burden and settings timeline pages: who may see them, what they show, query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.sharing.models import AuditEntry
from tests.dashboard.conftest import _connection
from tests.glucose import factories

ALARM_PAGES = ("alarm_burden", "settings_timeline")
# Session + user (2), connection + newest reading + device unit (3), then the report's reads.
MAX_QUERIES = {"alarm_burden": 12, "settings_timeline": 12}


def url(page, patient):
    return reverse(page, kwargs={"patient_id": patient.pk})


@pytest.fixture
def patient_with_alarms(patient):
    """20 days of readings up to now, the high alert changed 200 -> 250 7 days ago, two alarms
    (three records each) before the change, two after (one of them a single record)."""
    now = timezone.now().replace(second=0, microsecond=0)
    factories.make_egvs(patient, now - timedelta(days=20), [150] * (20 * 288))
    factories.make_device(
        patient, high_history=((now - timedelta(days=40), 200), (now - timedelta(days=7), 250))
    )
    for days in (9, 8, 2):
        start = now - timedelta(days=days)
        factories.make_alert(patient, start, "high", "activeAlarming")
        factories.make_alert(patient, start + timedelta(minutes=5), "high", "activeSnoozed")
        factories.make_alert(patient, start + timedelta(minutes=45), "high", "inactive")
    factories.make_alert(patient, now - timedelta(days=1), "high", "activeAlarming")
    _connection(
        patient, last_sync_at=now, backfill_total_days=90, backfill_done_days=90, backfill_completed_at=now
    )
    return patient


@pytest.mark.parametrize("page", ALARM_PAGES)
def test_it_renders_each_alarm_page_with_data(
    client, patient_with_alarms, page, django_assert_max_num_queries
):
    client.force_login(patient_with_alarms)
    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = client.get(url(page, patient_with_alarms))
    assert response.status_code == 200
    html = response.content.decode()
    assert "High alert 200 → 250 mg/dL" in html
    assert 'aria-current="page"' in html


@pytest.mark.parametrize("page", ALARM_PAGES)
def test_it_renders_each_alarm_page_without_data(client, patient_without_data, page):
    client.force_login(patient_without_data)
    response = client.get(url(page, patient_without_data))
    assert response.status_code == 200
    assert b"No settings change on file" in response.content


def test_the_burden_page_counts_alarms_and_compares_around_the_change(client, patient_with_alarms):
    client.force_login(patient_with_alarms)
    response = client.get(url("alarm_burden", patient_with_alarms) + "?days=30")
    report = response.context["report"]
    assert (report.alarms, report.records, report.snoozes) == (4, 10, 3)
    effect = next(e for e in report.effects if "High alert 200 → 250 mg/dL" in e.change.lines)
    assert effect.window_days == pytest.approx(7, abs=0.01)
    assert (effect.changed_alarms_before, effect.changed_alarms_after) == (2, 2)


def test_a_sharing_clinician_sees_them_and_the_look_is_audited(
    client, patient_with_alarms, clinician, make_share
):
    make_share(patient_with_alarms, clinician=clinician)
    client.force_login(clinician)
    for page in ALARM_PAGES:
        assert client.get(url(page, patient_with_alarms)).status_code == 200
    pages = set(AuditEntry.objects.filter(patient=patient_with_alarms).values_list("page", flat=True))
    assert {"alarm-burden", "settings-timeline"} <= pages


@pytest.mark.parametrize("page", ALARM_PAGES)
def test_a_stranger_gets_a_404(client, patient_with_alarms, other_patient, page):
    client.force_login(other_patient)
    assert client.get(url(page, patient_with_alarms)).status_code == 404
