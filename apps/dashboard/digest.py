"""The clinician's weekly digest: one PDF page per patient shared with them, most urgent first.

Each page holds what the triage list shows for the last 7 local days of that patient (the same
TriageRow, so the same numbers and flags, from the per-patient snapshot) and the 7 days before:
the flags raised, time in ranges as one stacked bar, and the metrics with their change. Drawn
with reportlab like the AGP PDF. Built for the download link and for the weekly email task
(apps.dashboard.tasks); each patient in it is written to their audit trail.
"""

import io
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from apps.glucose.localtime import viewer_clock_text
from apps.glucose.units import format_glucose
from apps.sharing import selectors, services
from apps.sharing.audit_context import AuditContext
from apps.sharing.triage import PeriodMetrics, TriageRow, fixed

DIGEST_DAYS = 7
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48
FLAG_RED = colors.HexColor("#a31b1b")
# The five consensus bands, bottom to top, with the colours of the AGP report.
BANDS = (
    ("Very low (<54 mg/dL)", "very_low", colors.HexColor("#a31b1b")),
    ("Low (54–69)", "low", colors.HexColor("#e74c3c")),
    ("In range (70–180)", "in_range", colors.HexColor("#2e9d5b")),
    ("High (181–250)", "high", colors.HexColor("#f0a800")),
    ("Very high (>250)", "very_high", colors.HexColor("#e67e22")),
)


@dataclass(frozen=True)
class DigestPatient:
    row: TriageRow
    unit: str


def digest_patients(*, clinician, now: datetime) -> list[DigestPatient]:
    """The clinician's shared patients over the last 7 days, flagged and most urgent first,
    each in the unit they read (the one their triage row was counted in: no query more)."""
    rows = selectors.triage_rows(viewer=clinician, period_days=DIGEST_DAYS, now=now)
    rows.sort(key=lambda row: (row.attention, row.name.lower()), reverse=True)
    return [DigestPatient(row, row.unit) for row in rows]


def record_digest_views(*, clinician, patients: list[DigestPatient], how: str) -> None:
    """The digest shows each patient's data to the clinician: it goes in their audit trail."""
    services.audit_record_list_views(
        audit=AuditContext(actor=clinician, path=how),
        patient_ids=[p.row.patient_id for p in patients],
        page="weekly-digest",
        quiet_minutes=0,
    )


def band_shares(metrics: PeriodMetrics) -> dict:
    """The five bands' % from the triage columns (the split bands are differences of the sums)."""

    def minus(a, b):
        return None if a is None or b is None else max(0.0, a - b)

    return {
        "very_low": metrics.tbr_below_54_percent,
        "low": minus(metrics.tbr_below_70_percent, metrics.tbr_below_54_percent),
        "in_range": metrics.tir_70_180_percent,
        "high": minus(metrics.tar_above_180_percent, metrics.tar_above_250_percent),
        "very_high": metrics.tar_above_250_percent,
    }


def _percent(value) -> str:
    return f"{fixed(value, 1)}%" if value is not None else "—"


def metric_lines(patient: DigestPatient) -> list[tuple[str, str, str]]:
    """(label, this week, the week before) of every metric on a patient's page."""
    current, previous, unit = patient.row.current, patient.row.previous, patient.unit

    def mean(m):
        return f"{format_glucose(m.mean_mgdl, unit)} {unit}" if m.mean_mgdl is not None else "—"

    def gri(m):
        return fixed(m.gri, 0) if m.gri is not None else "—"

    lines = [("Readings", str(current.readings), str(previous.readings))]
    lines.append(("Time CGM active", _percent(current.wear_percent), _percent(previous.wear_percent)))
    for label, key in (
        ("Time in range 70–180", "tir_70_180_percent"),
        ("Below 70", "tbr_below_70_percent"),
        ("Below 54", "tbr_below_54_percent"),
        ("Above 180", "tar_above_180_percent"),
        ("Above 250", "tar_above_250_percent"),
        ("CV", "cv_percent"),
        ("GMI", "gmi_percent"),
    ):
        lines.append((label, _percent(getattr(current, key)), _percent(getattr(previous, key))))
    lines.append(("Mean glucose", mean(current), mean(previous)))
    lines.append(("GRI", gri(current), gri(previous)))
    return lines


def digest_pdf(*, clinician, patients: list[DigestPatient], now: datetime, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=None if compress else 0)
    pdf.setTitle("dexweb weekly digest")
    if not patients:
        _header(pdf, clinician, now, count=0, flagged=0)
        pdf.setFont("Helvetica", 11)
        pdf.drawString(MARGIN, PAGE_HEIGHT - 120, "No patient shares their data with you yet.")
        pdf.showPage()
    flagged = sum(1 for p in patients if p.row.flags)
    for number, patient in enumerate(patients, start=1):
        _header(pdf, clinician, now, count=len(patients), flagged=flagged, number=number)
        _patient_page(pdf, patient, now)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _header(pdf, clinician, now, *, count: int, flagged: int, number: int | None = None) -> None:
    top = PAGE_HEIGHT - MARGIN
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(MARGIN, top, f"dexweb weekly digest for {clinician.display_name}")
    pdf.setFont("Helvetica", 8.5)
    made = viewer_clock_text(now, clinician.tzinfo)
    where = f" · patient {number} of {count}" if number else ""
    pdf.drawRightString(PAGE_WIDTH - MARGIN, top, f"{count} patients, {flagged} flagged{where} · made {made}")
    pdf.line(MARGIN, top - 6, PAGE_WIDTH - MARGIN, top - 6)


def _patient_page(pdf, patient: DigestPatient, now: datetime) -> None:
    row = patient.row
    top = PAGE_HEIGHT - MARGIN - 36
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(MARGIN, top, row.name)
    pdf.setFont("Helvetica", 9)
    period = row.period.label if row.period else f"last {DIGEST_DAYS} days"
    last = viewer_clock_text(row.last_reading_at, row.period.tzinfo if row.period else None) or "none"
    pdf.drawString(
        MARGIN, top - 15, f"{row.email} · {period} · values in {patient.unit} · last reading {last}"
    )
    y = top - 45
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(MARGIN, y, "Flags")
    pdf.setFont("Helvetica", 10)
    if row.flags:
        pdf.setFillColor(FLAG_RED)
        for flag in row.flags:
            y -= 14
            pdf.drawString(MARGIN + 10, y, f"• {flag}")
        pdf.setFillColor(colors.black)
    else:
        y -= 14
        pdf.drawString(MARGIN + 10, y, f"None: within the targets this week ({row.target_set.name}).")
    _tir_bar(pdf, band_shares(row.current), x=MARGIN, y=y - 60, w=PAGE_WIDTH - 2 * MARGIN, h=22)
    _metric_table(pdf, metric_lines(patient), x=MARGIN, top=y - 110)


def _tir_bar(pdf, shares: dict, *, x, y, w, h) -> None:
    """Time in ranges as one horizontal stacked bar, very low on the left, labelled below."""
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(x, y + h + 8, "Time in ranges this week")
    left = x
    pdf.setFont("Helvetica", 7.5)
    for _label, key, colour in BANDS:
        share = shares[key] or 0.0
        width = w * share / 100
        pdf.setFillColor(colour)
        pdf.rect(left, y, width, h, stroke=0, fill=1)
        left += width
    pdf.setFillColor(colors.black)
    for index, (label, key, colour) in enumerate(BANDS):
        lx = x + index * w / len(BANDS)
        pdf.setFillColor(colour)
        pdf.rect(lx, y - 14, 7, 7, stroke=0, fill=1)
        pdf.setFillColor(colors.black)
        pdf.drawString(lx + 10, y - 13, f"{label} {_percent(shares[key])}")


def _metric_table(pdf, lines, *, x, top) -> None:
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, top, "Metric")
    pdf.drawRightString(x + 300, top, "This week")
    pdf.drawRightString(x + 420, top, "Week before")
    pdf.setFont("Helvetica", 10)
    y = top
    for label, now, before in lines:
        y -= 15
        pdf.drawString(x, y, label)
        pdf.drawRightString(x + 300, y, now)
        pdf.drawRightString(x + 420, y, before)
