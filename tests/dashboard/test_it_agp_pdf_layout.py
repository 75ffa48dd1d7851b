"""The AGP PDF (issue 11) follows the AGP v4 one-page layout: portrait, TIR stacked bar,
metrics, AGP, 14 daily profiles labelled with weekday and date on a glucose scale."""

import re
from datetime import UTC, date, datetime

from django.utils import timezone

from apps.dashboard import pdf
from apps.glucose.localtime import period_ending
from apps.glucose.reports.agp import agp_report
from apps.glucose.reports.patient import patient_header
from tests.glucose import factories


def _report(patient, end=date(2026, 11, 5)):
    header = patient_header(patient, now=timezone.now())
    period = period_ending(end, days=14, local_now=header.local_now, tzinfo=patient.tzinfo)
    return agp_report(patient=patient, period=period, unit=header.unit)


def test_the_pdf_is_one_portrait_page(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    client.force_login(patient)
    body = client.get(f"/patients/{patient.pk}/agp.pdf?days=14&end=2026-11-05").content
    width, height = map(float, re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", body).groups())
    assert width < height  # portrait
    assert len(re.findall(rb"/Type /Page(?!s)", body)) == 1


def test_the_pdf_has_the_agp_v4_sections_in_order(patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    drawing = pdf.agp_pdf(_report(patient), patient_name=patient.display_name, compress=False).decode(
        "latin-1"
    )
    order = [
        drawing.index(f"({text}")
        for text in (
            "Time in ranges",
            "Glucose statistics and targets",
            "Ambulatory glucose profile",
            "Daily glucose profiles",
        )
    ]
    assert order == sorted(order)
    assert "(Time CGM active:" in drawing
    assert "(Fri 23 Oct)" in drawing and "(Thu 5 Nov)" in drawing  # weekday and date per day
    assert "every day of the period" in drawing
    assert drawing.count("(180)") >= 3  # AGP scale and one per row of daily profiles
    assert "[2 2] 0 d" in drawing  # the dashed 54 and 250 lines


def test_the_pdf_follows_the_patients_target_set(patient):
    from apps.glucose import targets
    from apps.glucose.target_choice import TargetsChoice, targets_choose

    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    targets_choose(
        patient_id=patient.pk, choice=TargetsChoice(targets.PREGNANCY_T1), actor=patient, ip_address=None
    )
    report = agp_report(
        patient=patient,
        period=_report(patient).period,
        unit="mg/dL",
        target_set=patient_header(patient, now=timezone.now()).target_set,
    )
    drawing = pdf.agp_pdf(report, patient_name=patient.display_name, compress=False).decode("latin-1")
    assert drawing.count("(140)") >= 3 and "(180)" not in drawing  # the scales mark 63 and 140
    assert "target <4% below 63" in drawing and "target <25% above 140" in drawing
