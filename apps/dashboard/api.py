"""JSON API: the same numbers as `manage.py glucose_metrics`, for integrations and checking."""

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.dashboard.charts import to_json
from apps.glucose.localtime import BadPeriod, period_from_dates
from apps.glucose.reports.patient import patient_header
from apps.glucose.reports.period_metrics import period_metrics_report
from apps.sharing.access import patient_for_viewer


@require_GET
def metrics(request, patient_id: int):
    """GET /api/v1/patients/<id>/metrics?start=YYYY-MM-DD&end=YYYY-MM-DD (end inclusive)."""
    patient = patient_for_viewer(request, patient_id, page="metrics-api")
    header = patient_header(patient, now=timezone.now())
    try:
        period = period_from_dates(
            request.GET.get("start"),
            request.GET.get("end"),
            local_now=header.local_now,
            tzinfo=patient.tzinfo,
        )
    except BadPeriod as error:
        return JsonResponse({"error": str(error)}, status=400)
    report = period_metrics_report(patient=patient, period=period, unit=header.unit)
    return HttpResponse(to_json(report), content_type="application/json")
