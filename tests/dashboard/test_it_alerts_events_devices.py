from datetime import UTC, datetime, timedelta

from django.utils import timezone

from tests.glucose import factories


def test_it_shows_the_threshold_in_force_at_each_alert(client, patient):
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    factories.make_egvs(patient, now - timedelta(hours=1), [200])
    factories.make_device(
        patient, high_history=((now - timedelta(days=30), 200), (now - timedelta(days=3), 220))
    )
    factories.make_alert(patient, now - timedelta(days=5), "high")  # midday: default schedule, 200
    factories.make_alert(patient, now - timedelta(days=1), "high")  # after the change: 220
    factories.make_alert(patient, now - timedelta(days=1, hours=10), "high")  # 02:00: Night, 250
    factories.make_alert(patient, now - timedelta(days=2), "urgentLow")  # no setting known
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/alerts/").content.decode()
    assert html.count("200 mg/dL") == 1 and html.count("220 mg/dL") == 1 and html.count("250 mg/dL") == 1
    assert "unknown: the device reported no setting of this alert" in html
    assert "4 alarms" in html and "Urgent low" in html and "urgentLow<" not in html
    filtered = client.get(f"/patients/{patient.pk}/alerts/?type=urgentLow").content.decode()
    assert "1 alarm " in filtered


def test_it_counts_alarms_not_alert_records(client, patient):
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    factories.make_device(patient, high_history=((now - timedelta(days=30), 200),))
    start = now - timedelta(days=1)
    factories.make_alert(patient, start, "high", "activeAlarming")
    factories.make_alert(patient, start + timedelta(minutes=5), "high", "activeSnoozed")
    factories.make_alert(patient, start + timedelta(minutes=65), "high", "activeAlarming")
    factories.make_alert(patient, start + timedelta(minutes=90), "high", "inactive")
    factories.make_alert(patient, start + timedelta(hours=3), "rise", "activeAlarming")
    factories.make_alert(patient, start + timedelta(hours=3, minutes=20), "rise", "inactive")
    client.force_login(patient)
    response = client.get(f"/patients/{patient.pk}/alerts/")
    html = response.content.decode()
    assert "2 alarms" in html and "From 6 alert records" in html
    assert [(r.alarm.label, r.alarm.snoozes, r.threshold.text) for r in response.context["rows"]] == [
        ("Rising fast", 0, "unknown: the device reported no setting of this alert"),
        ("High", 1, "200 mg/dL"),
    ]
    assert "90 min" in html and "#f0a800" in html


def test_it_shows_thresholds_in_mmol_for_an_mmol_device(client, patient):
    now = timezone.now()
    factories.make_device(patient, unit="mmol/L", high_history=((now - timedelta(days=30), 180),))
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/devices/").content.decode()
    assert "10.0 mmol/L" in html and "Values in mmol/L" in html


def test_it_lists_events_without_deleted_ones(client, patient):
    now = timezone.now()
    factories.make_event(patient, now - timedelta(hours=2), "carbs", "45")
    factories.make_event(
        patient, now - timedelta(hours=3), "exercise", "30", unit="minutes", sub_type="light"
    )
    factories.make_event(patient, now - timedelta(hours=4), "carbs", "77", status="deleted")
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/events/").content.decode()
    assert "45 grams" in html and "30 minutes" in html and "77" not in html
    only_carbs = client.get(f"/patients/{patient.pk}/events/?type=carbs").content.decode()
    assert "45 grams" in only_carbs and "30 minutes" not in only_carbs


def test_it_shows_what_changed_when(client, patient):
    now = timezone.now()
    factories.make_device(
        patient, high_history=((now - timedelta(days=30), 200), (now - timedelta(days=3), 220))
    )
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/devices/").content.decode()
    changed = timezone.localtime(now - timedelta(days=3), timezone=UTC)
    assert f"High alert 200 → 220 mg/dL, {changed:%-d %b %H:%M}" in html
    assert "Night" in html and "22:00–07:00" in html and "all day" in html
    assert "00:00–00:00" not in html


def test_home_sends_patients_to_their_overview(client, patient, clinician):
    client.force_login(patient)
    assert client.get("/")["Location"] == f"/patients/{patient.pk}/overview/"
    client.force_login(clinician)
    response = client.get("/")
    assert response.status_code in (200, 302)


def test_the_overview_shows_the_latest_reading_and_the_period(client, patient):
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    factories.make_egvs(patient, start, [100, 105, 110, 39])
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/overview/?days=7").content.decode()
    assert "LOW" in html and "Fewer than 14 days" not in html or "Time CGM active was" in html
    assert "7 days" in html
    assert "not enough data" in html or "needs 10+ days" in html


def test_the_alert_list_and_its_counts_take_the_same_local_days(client, patient):
    # A traveller two hours east of their home zone (UTC): 23:30 UTC on the 10th was 01:30 on
    # the 11th on their phone, so it belongs to the 11th in the list and in the counts alike.
    from apps.glucose.models import Alert

    factories.make_alert(patient, datetime(2026, 11, 10, 12, 0, tzinfo=UTC), "high")
    late = factories.make_alert(patient, datetime(2026, 11, 10, 23, 30, tzinfo=UTC), "low")
    Alert.objects.filter(pk=late.pk).update(display_delta_seconds=2 * 3600)
    client.force_login(patient)
    context = client.get(f"/patients/{patient.pk}/alerts/?days=1&end=2026-11-10").context
    assert [row.alarm.name for row in context["rows"]] == ["high"]
    assert context["total"] == 1
    next_day = client.get(f"/patients/{patient.pk}/alerts/?days=1&end=2026-11-11").context
    assert [row.alarm.name for row in next_day["rows"]] == ["low"]
    assert next_day["total"] == 1
