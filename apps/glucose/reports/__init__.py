"""Typed report builders: one per page, the only way the pages, the PDF, the API and the
commands read a patient's records.

A view checks access (apps.sharing.access), reads the patient header (patient.py: the newest
reading, the unit, the patient's "today"), parses its period, asks its report once and renders
it. A builder takes the patient, an already-parsed period (apps.glucose.localtime.Period), the
unit and `now` where needed, never a request; it returns a frozen dataclass of data (numbers,
numpy series, records), never display strings or chart JSON. Metrics come only from
apps.glucose.metrics, local time only from apps.glucose.localtime, reads only from
apps.glucose.selectors.

- patient.py: PatientHeader (every page's frame), unit_for, local_now_for
- period_metrics.py: metrics of a period (from readings or DailySummary), the API's report
- overview.py, trace.py (trace and day view), agp.py (page and PDF), events.py, devices.py,
  imports.py; the alarm pages' reports are apps.glucose.alarm_report.
- periods.py: Patterns, Statistics (hourly), Daily (overlay and per-day table), Compare; the
  Data completeness report reads sync state, so it lives in apps.sync.completeness.
"""
