"""One metrics truth: every path that shows a patient's numbers shows the same ones.

The same patient and period through the overview (DailySummary), the AGP page (raw readings),
the PDF, the JSON API, `manage.py glucose_metrics`, and the clinician's triage list and their
view of the overview. The patient reads mmol/L (their device does) and lives at UTC+9, so the
bands and the local days are the ones that can go wrong.
"""

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from reportlab import rl_config

from tests.glucose import factories

TOKYO = 9 * 3600
# Values that sit on the band edges, where mg/dL and mmol/L part (141, 181, 251), and a gap.
PATTERN = [39, 53, 54, 69, 70, 100, 140, 141, 150, 180, 181, 200, 250, 251, 300, 401]
COMPARED = (
    "days",
    "readings",
    "wear_percent",
    "mean_mgdl",
    "sd_mgdl",
    "cv_percent",
    "gmi_percent",
    "tbr_below_54_percent",
    "tbr_54_69_percent",
    "tir_70_180_percent",
    "titr_70_140_percent",
    "tar_181_250_percent",
    "tar_above_250_percent",
    "gri",
)
# The list shows no mean: its rows carry the snapshot's stored columns, which hold none.
TRIAGE = {
    "wear_percent": "wear_percent",
    "cv_percent": "cv_percent",
    "gmi_percent": "gmi_percent",
    "tbr_below_54_percent": "tbr_below_54_percent",
    "tir_70_180_percent": "tir_70_180_percent",
    "tar_above_250_percent": "tar_above_250_percent",
    "gri": "gri",
}


@pytest.fixture
def tokyo_patient(make_user):
    patient = make_user("tokyo@example.com", timezone="Asia/Tokyo")
    factories.make_device(patient, unit="mmol/L")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(days=17)
    values = [PATTERN[i % len(PATTERN)] if i % 500 > 40 else None for i in range(17 * 288)]
    factories.make_egvs(patient, start, values, delta_seconds=TOKYO)
    return patient


@pytest.fixture
def period(tokyo_patient):
    """The patient's last 14 full local days: what the clinician's triage list shows."""
    yesterday = (datetime.now(UTC) + timedelta(seconds=TOKYO)).date() - timedelta(days=1)
    return yesterday - timedelta(days=13), yesterday


def _assert_same(ours: dict, theirs: dict, *, keys=COMPARED, abs_tol=1e-9, name=""):
    for key in keys:
        if theirs[key] is None:
            assert ours[key] is None, (name, key)
        else:
            assert ours[key] == pytest.approx(theirs[key], abs=abs_tol), (name, key)


def _pdf_text(response) -> str:
    """The text an uncompressed reportlab page draws: its "(...) Tj" strings, unescaped
    (\\( \\) and octal \\ddd in WinAnsi, where \\226 is an en dash)."""
    strings = re.findall(rb"\((.*?)\) Tj", response.content)

    def unescape(raw: bytes) -> str:
        raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
        return re.sub(rb"\\([()\\])", rb"\1", raw).decode("cp1252")

    return " ".join(unescape(raw) for raw in strings)


def test_every_path_gives_the_same_metrics(client, tokyo_patient, period, clinician, make_share, monkeypatch):
    first_day, last_day = period
    query = f"?days=14&end={last_day.isoformat()}"
    client.force_login(tokyo_patient)
    overview = client.get(reverse("overview", args=[tokyo_patient.pk]) + query).context
    metrics = overview["metrics"]
    assert metrics["days"] == 14 and metrics["unit"] == "mmol/L"
    assert 0 < metrics["readings"] < 14 * 288  # the gaps are real

    agp = client.get(reverse("agp", args=[tokyo_patient.pk]) + query).context
    _assert_same(agp["metrics"], metrics, name="agp")
    assert agp["period"].label == overview["period"].label

    api = client.get(
        f"/api/v1/patients/{tokyo_patient.pk}/metrics"
        f"?start={first_day.isoformat()}&end={last_day.isoformat()}"
    ).json()
    _assert_same(api, metrics, abs_tol=0.006, name="api")
    assert api["period"] == overview["period"].label

    out = io.StringIO()
    call_command(
        "glucose_metrics",
        user=tokyo_patient.email,
        start=first_day.isoformat(),
        end=last_day.isoformat(),
        stdout=out,
    )
    command = json.loads(out.getvalue())
    assert {k: v for k, v in command.items() if k != "agp"} == {k: v for k, v in api.items() if k != "agp"}

    monkeypatch.setattr(rl_config, "pageCompression", 0)
    pdf = _pdf_text(client.get(reverse("agp_pdf", args=[tokyo_patient.pk]) + query))
    for band in overview["bands"]:
        assert f"{band['label']}: {band['percent_text']}" in pdf
    assert f"Time CGM active: {metrics['wear_percent']:.0f}%" in pdf
    assert overview["period"].label in pdf

    make_share(tokyo_patient, clinician=clinician)
    client.force_login(clinician)
    row = next(
        r for r in client.get(reverse("sharing:triage")).context["rows"] if r.patient_id == tokyo_patient.pk
    )
    assert (row.period.first_day, row.period.last_day) == (first_day, last_day)
    _assert_same(vars(row.current), {TRIAGE[k]: metrics[k] for k in TRIAGE}, keys=TRIAGE, name="triage")
    assert row.current.tbr_below_70_percent == pytest.approx(
        metrics["tbr_below_54_percent"] + metrics["tbr_54_69_percent"]
    )
    assert row.current.tar_above_180_percent == pytest.approx(
        metrics["tar_181_250_percent"] + metrics["tar_above_250_percent"]
    )

    # The clinician follows the row's link: the same period, label and numbers as the patient's.
    seen = client.get(
        reverse("overview", args=[tokyo_patient.pk])
        + f"?days={row.period.days}&end={row.period.last_day.isoformat()}"
    ).context
    assert seen["period"].label == overview["period"].label == row.period.label
    _assert_same(seen["metrics"], metrics, name="clinician overview")


def test_mmol_patients_count_what_they_read(client, tokyo_patient, period):
    # 181 mg/dL reads 10.0 mmol/L: in range for this patient, so TIR is higher than in mg/dL.
    _, last_day = period
    client.force_login(tokyo_patient)
    query = f"?days=14&end={last_day.isoformat()}"
    in_mmol = client.get(reverse("overview", args=[tokyo_patient.pk]) + query).context["metrics"]
    tokyo_patient.glucose_unit = "mg/dL"
    tokyo_patient.save(update_fields=["glucose_unit"])
    in_mgdl = client.get(reverse("overview", args=[tokyo_patient.pk]) + query).context["metrics"]
    per_pattern = 100 / len(PATTERN)
    assert in_mmol["tir_70_180_percent"] - in_mgdl["tir_70_180_percent"] == pytest.approx(
        per_pattern, abs=0.5
    )
    assert in_mmol["titr_70_140_percent"] - in_mgdl["titr_70_140_percent"] == pytest.approx(
        per_pattern, abs=0.5
    )
    assert in_mgdl["tar_above_250_percent"] - in_mmol["tar_above_250_percent"] == pytest.approx(
        per_pattern, abs=0.5
    )
