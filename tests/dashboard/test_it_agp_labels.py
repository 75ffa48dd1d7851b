"""AGP (issue 11): 54/250 reference lines, daily profiles labelled and said which days they are."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

from apps.dashboard.charts import daily_profiles_caption
from tests.glucose import factories


def _agp_data(html: str) -> dict:
    return json.loads(html.split('id="agp-data">')[1].split("</script>")[0])


def test_the_web_agp_draws_the_54_and_250_lines(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [120] * 288)
    client.force_login(patient)
    data = _agp_data(client.get(f"/patients/{patient.pk}/agp/?days=14&end=2026-11-05").content.decode())
    assert data["reference_lines"] == [54, 250]
    script = Path("static/js/charts.js").read_text()
    assert "referenceLines(data)" in script  # the AGP layout draws them


def test_daily_profiles_carry_weekday_and_date(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [120] * 288)
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/agp/?days=14&end=2026-11-05").content.decode()
    labels = [day["label"] for day in _agp_data(html)["profiles"]]
    assert labels[0] == "Fri 23 Oct" and labels[-1] == "Thu 5 Nov" and len(labels) == 14
    assert "Fri 23 Oct 2026 – Thu 5 Nov 2026 (every day of the period)" in html


def test_the_caption_says_the_profiles_are_the_last_14_of_a_longer_period():
    caption = daily_profiles_caption(date(2026, 9, 7), 90)
    assert caption == "Sun 22 Nov 2026 – Sat 5 Dec 2026 (the last 14 of the period's 90 days)"
    assert daily_profiles_caption(date(2026, 12, 1), 7).endswith("(every day of the period)")


def test_time_cgm_active_is_the_one_name_for_wear(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [120] * 288)
    client.force_login(patient)
    for path in ("overview", "agp"):
        html = client.get(f"/patients/{patient.pk}/{path}/?days=14&end=2026-11-05").content.decode()
        assert "Time CGM active" in html
        assert "worn" not in html.lower() and "Sensor wear" not in html


def test_the_api_names_wear_time_cgm_active(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [120] * 288)
    client.force_login(patient)
    data = client.get(f"/api/v1/patients/{patient.pk}/metrics?start=2026-11-01&end=2026-11-01").json()
    assert data["conventions"]["wear_percent"].startswith("Time CGM active")
