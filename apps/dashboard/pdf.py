"""The AGP report as a one-page PDF, drawn with reportlab's canvas (pure Python: no browser,
no kaleido/Chrome, no system service), from the same context the AGP page renders."""

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from apps.dashboard.metric_display import WEAR_LABEL
from apps.glucose.units import MMOLL, format_glucose

Y_MAX = 350  # mg/dL shown on the AGP axis, as the standard report does
BAND_FILL = colors.Color(0.12, 0.43, 0.80, alpha=0.25)
INNER_FILL = colors.Color(0.12, 0.43, 0.80, alpha=0.5)
TARGET_FILL = colors.Color(0.18, 0.62, 0.36, alpha=0.12)


def agp_pdf(context: dict) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=landscape(A4))
    _width, height = landscape(A4)
    patient, period, unit = context["patient"], context["period"], context["unit"]
    pdf.setTitle("AGP report")
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(30, height - 36, f"AGP report: {patient.display_name}")
    pdf.setFont("Helvetica", 9)
    pdf.drawString(30, height - 50, f"{period.label} · "
                   f"values in {unit} · LOW counted as 40 and HIGH as 400 mg/dL · sample SD")
    _metrics_block(pdf, context, x=30, top=height - 72)
    chart = context["chart_data"]
    _modal_day(pdf, chart, unit, x=300, y=250, w=510, h=250)
    _daily_profiles(pdf, chart, x=30, y=30, w=780, h=180)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _metrics_block(pdf, context, *, x, top):
    y = top
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y, "Time in ranges")
    y -= 14
    pdf.setFont("Helvetica", 9)
    for band in context["bands"]:
        pdf.setFillColor(colors.HexColor(band["color"]))
        pdf.rect(x, y - 2, 8, 8, fill=1, stroke=0)
        pdf.setFillColor(colors.black)
        pdf.drawString(x + 12, y, f"{band['label']}: {band['percent_text']}  (target {band['target']})")
        y -= 13
    y -= 6
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y, "Glucose metrics")
    y -= 14
    pdf.setFont("Helvetica", 9)
    metrics = context["metrics"]
    wear = metrics["wear_percent"]
    pdf.drawString(x, y, f"{WEAR_LABEL}: {wear:.0f}%" if wear is not None else f"{WEAR_LABEL}: —")
    y -= 13
    for row in context["summary"]:
        pdf.drawString(x, y, f"{row['label']}: {row['value']}")
        y -= 13
    if context["wear_warning"]:
        pdf.setFillColor(colors.HexColor("#c98a00"))
        for part in _wrap(context["wear_warning"], 55):
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
    pdf.setFillColor(TARGET_FILL)
    pdf.rect(x, sy(70), w, sy(180) - sy(70), fill=1, stroke=0)
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
    for mgdl in (54, 70, 180, 250):
        pdf.drawRightString(x - 3, sy(mgdl) - 2, format_glucose(mgdl, unit))
        pdf.line(x, sy(mgdl), x + w, sy(mgdl))
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


def _daily_profiles(pdf, chart, *, x, y, w, h):
    profiles = chart["profiles"]
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(x, y + h + 8, "Daily glucose profiles")
    columns = 7
    cell_w, cell_h = w / columns, h / 2 - 12
    for i, profile in enumerate(profiles[-14:]):
        cx = x + (i % columns) * cell_w
        cy = y + (1 - i // columns) * (cell_h + 12)
        sx, sy = _scale(cx + 2, cy, cell_w - 4, cell_h)
        pdf.setFillColor(TARGET_FILL)
        pdf.rect(cx + 2, sy(70), cell_w - 4, sy(180) - sy(70), fill=1, stroke=0)
        pdf.setStrokeColor(colors.lightgrey)
        pdf.setLineWidth(0.4)
        pdf.rect(cx + 2, cy, cell_w - 4, cell_h, fill=0, stroke=1)
        pdf.setFillColor(colors.black)
        pdf.setFont("Helvetica", 7)
        pdf.drawString(cx + 4, cy + cell_h - 8, profile["date"])
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
