"""Reports (apps.glucose.reports) turned into what the templates and the PDF show: chart data
through apps.dashboard.charts, formatted rows through apps.dashboard.metric_display. Pure
functions of a report: no reads, no request."""

from datetime import date, timedelta

from apps.dashboard import charts, device_display, metric_display
from apps.glucose import targets
from apps.glucose.reports.agp import AgpReport
from apps.glucose.reports.devices import DevicesReport
from apps.glucose.reports.overview import OverviewReport
from apps.glucose.reports.trace import TraceReport


def metrics_rows(metrics: dict, unit: str, *, days: int, target_set, target_measures: dict) -> dict:
    """A period's metrics as the overview, the AGP page and the PDF show them: the consensus
    metrics, and the time in ranges against the patient's target set."""
    return {
        "metrics": metrics,
        "bands": metric_display.range_bands(target_measures, unit, target_set),
        "summary": metric_display.summary_rows(metrics, unit, target_set),
        "wear_warning": metric_display.wear_warning(metrics, period_days=days),
    }


def overview_context(report: OverviewReport, unit: str) -> dict:
    mini = charts.mini_trace_chart_data(report.last_day, unit=unit, target_set=report.target_set)
    return {
        **metrics_rows(
            report.metrics,
            unit,
            days=report.period.days,
            target_set=report.target_set,
            target_measures=report.target_measures,
        ),
        "comparison": metric_display.comparison_rows(report.metrics, report.previous_metrics, unit),
        "previous": report.previous,
        "has_previous": report.has_previous,
        "best_day": metric_display.ranked_day(report.best_day, unit),
        # Best and worst day rank by the consensus time in range, whatever the target set.
        "consensus_range": targets.STANDARD_SET.range_text(unit),
        "worst_day": metric_display.ranked_day(report.worst_day, unit),
        "mini_json": charts.to_json(mini) if len(mini["t"]) else "",
    }


def trace_context(report: TraceReport, unit: str, *, today: date, target_set) -> dict:
    data = charts.trace_chart_data(
        report.series,
        unit=unit,
        period=report.period,
        events=report.events,
        alerts=report.alerts,
        calibrations=report.calibrations,
        target_set=target_set,
    )
    one_day = timedelta(days=1)
    period = report.period
    return {
        "readings": report.readings,
        "chart_json": charts.to_json(data),
        "previous_day": period.first_day - one_day,
        "next_day": period.last_day + one_day if period.last_day < today else None,
    }


def agp_context(report: AgpReport) -> dict:
    data = charts.agp_chart_data(report)
    return {
        **metrics_rows(
            report.metrics,
            report.unit,
            days=report.days,
            target_set=report.target_set,
            target_measures=report.target_measures,
        ),
        "chart_json": charts.to_json(data),
        "profiles_caption": data["profiles_caption"],
    }


def devices_context(report: DevicesReport, unit: str, *, tzinfo) -> dict:
    return {
        "devices": [
            device_display.display_item(history, unit=unit, tzinfo=tzinfo) for history in report.histories
        ]
    }
