"""The trace's report (1-90 local days, and the one-day view): readings and the markers of
events, alerts and calibrations on them."""

from dataclasses import dataclass

from apps.glucose import localtime, selectors


@dataclass(frozen=True)
class TraceReport:
    period: localtime.Period
    series: selectors.EgvSeries
    # Marker rows (epoch s, display delta s, *fields), see selectors.marker_rows:
    events: list[tuple]  # ..., event type, sub type, value, unit
    alerts: list[tuple]  # ..., alert name, alert state
    calibrations: list[tuple]  # ..., value

    @property
    def readings(self) -> int:
        return len(self.series)


def trace_report(*, patient, period: localtime.Period) -> TraceReport:
    """Four reads: the readings of the period's local days and the three kinds of markers."""
    events = selectors.events_in(patient_id=patient.pk, period=period)
    alerts = selectors.alerts_in(patient_id=patient.pk, period=period)
    calibrations = selectors.calibrations_in(patient_id=patient.pk, period=period)
    return TraceReport(
        period=period,
        series=selectors.egv_series_for_local_days(
            patient_id=patient.pk, first_day=period.first_day, end_day=period.end_day
        ),
        events=selectors.marker_rows(events, "event_type", "event_sub_type", "value", "unit"),
        alerts=selectors.marker_rows(alerts, "alert_name", "alert_state"),
        calibrations=selectors.marker_rows(calibrations, "value"),
    )
