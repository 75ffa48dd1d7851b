"""The AGP report as a one-page PDF in the AGP v4 layout, drawn with reportlab's canvas (pure
Python: no browser, no kaleido/Chrome, no system service), from the same typed report the AGP
page renders (apps.glucose.reports.agp.AgpReport).

AGP v4 (Battelino et al., Diabetes Care 2019; the 2023 report) is one portrait page, top to
bottom: time in ranges as one stacked bar with its targets beside the glucose statistics, the
ambulatory glucose profile with the 54, 70, 180 and 250 mg/dL lines, and 14 daily profiles,
each labelled with its weekday and date, on a glucose scale.
"""

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from apps.dashboard.charts import agp_chart_data
from apps.dashboard.metric_display import WEAR_LABEL
from apps.dashboard.presenters import metrics_rows
from apps.glucose.reports.agp import AgpReport
from apps.glucose.units import MMOLL, format_glucose

Y_MAX = 350  # mg/dL shown on the AGP axis, as the standard report does
BAND_FILL = colors.Color(0.12, 0.43, 0.80, alpha=0.25)
INNER_FILL = colors.Color(0.12, 0.43, 0.80, alpha=0.5)
TARGET_FILL = colors.Color(0.18, 0.62, 0.36, alpha=0.12)
PAGE_WIDTH, PAGE_HEIGHT = A4  # portrait
MARGIN = 40
LEFT_AXIS = 56  # room for the glucose scale left of the charts


def agp_pdf(report: AgpReport, *, patient_name: str, compress: bool = True) -> bytes:
    """`compress=False` leaves the page's drawing readable (tests look for the labels)."""
    buffer = io.BytesIO()
    # None: reportlab's own setting (rl_config.pageCompression, on by default)
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=None if compress else 0)
    period, unit = report.period, report.unit
    rows = metrics_rows(
        report.metrics,
        unit,
        days=report.days,
        target_set=report.target_set,
        target_measures=report.target_measures,
    )
    top = PAGE_HEIGHT - MARGIN
    pdf.setTitle("AGP report")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(MARGIN, top, f"AGP report: {patient_name}")
    pdf.setFont("Helvetica", 8.5)
    pdf.drawString(
        MARGIN,
        top - 14,
        f"{period.label} · values in {unit} · LOW counted as 40 and HIGH as 400 mg/dL · sample SD",
    )
    _tir_bar(pdf, rows["bands"], x=MARGIN, top=top - 40, h=190)
    _metrics_block(pdf, rows, days=report.days, x=310, top=top - 40)
    chart = agp_chart_data(report)
    width = PAGE_WIDTH - LEFT_AXIS - MARGIN
    _modal_day(pdf, chart, unit, x=LEFT_AXIS, y=330, w=width, h=170)
    _daily_profiles(pdf, chart, unit, x=LEFT_AXIS, y=MARGIN, w=width, h=230)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _tir_bar(pdf, bands, *, x, top, h):
    """Time in ranges as one stacked bar (very low at the bottom), each band's share and target
    beside it, as the AGP v4 report draws it."""
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, top, "Time in ranges")
    bar_x, bar_w, bottom = x, 26, top - 14 - h
    y = bottom
    for band in reversed(bands):  # bands run very high → very low
        share = h * (band["percent"] or 0) / 100
        pdf.setFillColor(colors.HexColor(band["color"]))
        pdf.rect(bar_x, y, bar_w, share, fill=1, stroke=0)
        y += share
    pdf.setStrokeColor(colors.grey)
    pdf.setLineWidth(0.5)
    pdf.rect(bar_x, bottom, bar_w, h, fill=0, stroke=1)
    pdf.setFillColor(colors.black)
    step = h / len(bands)
    for i, band in enumerate(bands):
        label_y = top - 14 - step * (i + 0.5)
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(bar_x + bar_w + 8, label_y, f"{band['label']}: {band['percent_text']}")
        pdf.setFont("Helvetica", 8)
        pdf.setFillColor(colors.HexColor("#5b6470"))
        pdf.drawString(bar_x + bar_w + 8, label_y - 10, f"target {band['target']}")
        pdf.setFillColor(colors.black)


def _metrics_block(pdf, rows, *, days: int, x, top):
    y = top
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y, "Glucose statistics and targets")
    y -= 16
    pdf.setFont("Helvetica", 9)
    metrics = rows["metrics"]
    wear = metrics["wear_percent"]
    pdf.drawString(x, y, f"{WEAR_LABEL}: {wear:.0f}%" if wear is not None else f"{WEAR_LABEL}: —")
    y -= 13
    pdf.drawString(x, y, f"Days with data: {metrics['days_with_data']} of {days}")
    y -= 13
    for row in rows["summary"]:
        pdf.drawString(x, y, f"{row['label']}: {row['value']}")
        y -= 13
    if rows["wear_warning"]:
        pdf.setFillColor(colors.HexColor("#c98a00"))
        for part in _wrap(rows["wear_warning"], 50):
            pdf.drawString(x, y, part)
            y -= 11
        pdf.setFillColor(colors.black)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line] if line else lines


def _scale(x, y, w, h):
    return (lambda minute: x + w * minute / 1440), (lambda mgdl: y + h * min(mgdl, Y_MAX) / Y_MAX)


def _modal_day(pdf, chart, unit, *, x, y, w, h):
    sx, sy = _scale(x, y, w, h)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y + h + 8, "Ambulatory glucose profile (5th–95th, 25th–75th percentiles, median)")
    target_low, target_high = chart["target"]  # the patient's target set's range
    pdf.setFillColor(TARGET_FILL)
    pdf.rect(x, sy(target_low), w, sy(target_high) - sy(target_low), fill=1, stroke=0)
    agp = chart["agp"]
    minutes = agp["slot_minutes"]
    for low, high, fill in (("p5", "p95", BAND_FILL), ("p25", "p75", INNER_FILL)):
        _band(pdf, minutes, agp[low], agp[high], sx, sy, fill)
    pdf.setStrokeColor(colors.HexColor("#0b3d91"))
    pdf.setLineWidth(1.5)
    _polyline(pdf, minutes, agp["p50"], sx, sy)
    pdf.setStrokeColor(colors.grey)
    pdf.setLineWidth(0.5)
    pdf.rect(x, y, w, h, fill=0, stroke=1)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 7)
    for mgdl in (54, target_low, target_high, 250):
        pdf.drawRightString(x - 3, sy(mgdl) - 2, format_glucose(mgdl, unit))
        if mgdl in chart["reference_lines"]:
            pdf.setDash(2, 2)  # 54 and 250 dashed, as the AGP v4 report
        else:
            pdf.setDash()
        pdf.line(x, sy(mgdl), x + w, sy(mgdl))
    pdf.setDash()
    for hour in range(0, 25, 3):
        pdf.drawCentredString(sx(hour * 60), y - 10, f"{hour % 24:02d}:00")
    pdf.drawString(x - 28, y + h + 8 - 14, MMOLL if unit == MMOLL else "mg/dL")


def _segments(minutes, values):
    segment = []
    for minute, value in zip(minutes, values, strict=True):
        if value is None:
            if segment:
                yield segment
            segment = []
        else:
            segment.append((minute, value))
    if segment:
        yield segment


def _band(pdf, minutes, lows, highs, sx, sy, fill):
    pdf.setFillColor(fill)
    pairs = [None if a is None or b is None else (a, b) for a, b in zip(lows, highs, strict=True)]
    for segment in _segments(minutes, pairs):
        path = pdf.beginPath()
        path.moveTo(sx(segment[0][0]), sy(segment[0][1][1]))
        for minute, (_, high) in segment:
            path.lineTo(sx(minute), sy(high))
        for minute, (low, _) in reversed(segment):
            path.lineTo(sx(minute), sy(low))
        path.close()
        pdf.drawPath(path, fill=1, stroke=0)


def _polyline(pdf, minutes, values, sx, sy):
    for segment in _segments(minutes, values):
        path = pdf.beginPath()
        path.moveTo(sx(segment[0][0]), sy(segment[0][1]))
        for minute, value in segment[1:]:
            path.lineTo(sx(minute), sy(value))
        pdf.drawPath(path, fill=0, stroke=1)


def _daily_profiles(pdf, chart, unit, *, x, y, w, h):
    """14 days in two rows of 7, each labelled "Fri 23 Oct", with a scale of the target range
    (70/180 for the standard set) per row."""
    profiles = chart["profiles"]
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y + h + 20, "Daily glucose profiles")
    pdf.setFont("Helvetica", 7.5)
    pdf.drawString(x, y + h + 9, f"{chart['profiles_caption']}; each day midnight to midnight")
    columns = 7
    cell_w, cell_h = w / columns, h / 2 - 14
    for i, profile in enumerate(profiles[-14:]):
        cx = x + (i % columns) * cell_w
        cy = y + (1 - i // columns) * (cell_h + 14)
        sx, sy = _scale(cx + 2, cy, cell_w - 4, cell_h)
        low, high = chart["target"]
        pdf.setFillColor(TARGET_FILL)
        pdf.rect(cx + 2, sy(low), cell_w - 4, sy(high) - sy(low), fill=1, stroke=0)
        pdf.setStrokeColor(colors.lightgrey)
        pdf.setLineWidth(0.4)
        pdf.rect(cx + 2, cy, cell_w - 4, cell_h, fill=0, stroke=1)
        pdf.setFillColor(colors.black)
        pdf.setFont("Helvetica", 7)
        pdf.drawString(cx + 4, cy + cell_h + 3, profile["label"])
        if i % columns == 0:
            _profile_scale(pdf, cx, sy, unit, chart["target"])
        _profile_line(pdf, profile, sx, sy)


def _profile_scale(pdf, cx, sy, unit, target):
    pdf.setFont("Helvetica", 6.5)
    for mgdl in (*target, Y_MAX):
        pdf.drawRightString(cx - 1, sy(mgdl) - 2, format_glucose(mgdl, unit))


def _profile_line(pdf, profile, sx, sy):
    points = sorted(zip(profile["t"].tolist(), profile["v"].tolist(), strict=True))
    pdf.setStrokeColor(colors.HexColor("#0b3d91"))
    pdf.setLineWidth(0.6)
    previous = None
    path = pdf.beginPath()
    for minute, value in points:
        value = min(max(value, 40), 400)
        if previous is None or minute - previous > 15:
            path.moveTo(sx(minute), sy(value))
        else:
            path.lineTo(sx(minute), sy(value))
        previous = minute
    pdf.drawPath(path, fill=0, stroke=1)
