"""The AGP PDF (issue 11) follows the AGP v4 one-page layout: portrait, TIR stacked bar,
metrics, AGP, 14 daily profiles labelled with weekday and date on a glucose scale."""

import re
from datetime import UTC, datetime

from django.test import RequestFactory

from apps.dashboard import pdf, views
from apps.dashboard.patient_page import load_patient_page
from tests.glucose import factories


def _context(patient, query="?days=14&end=2026-11-05"):
    request = RequestFactory().get(f"/patients/{patient.pk}/agp.pdf{query}")
    request.user = patient
    return views._agp_context(request, patient, load_patient_page(patient))


def test_the_pdf_is_one_portrait_page(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    client.force_login(patient)
    body = client.get(f"/patients/{patient.pk}/agp.pdf?days=14&end=2026-11-05").content
    width, height = map(float, re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", body).groups())
    assert width < height  # portrait
    assert len(re.findall(rb"/Type /Page(?!s)", body)) == 1


def test_the_pdf_has_the_agp_v4_sections_in_order(patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    drawing = pdf.agp_pdf(_context(patient), compress=False).decode("latin-1")
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
