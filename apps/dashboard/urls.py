from django.urls import include, path

from apps.dashboard import alarm_views, report_views, target_views, views

# The patient's pages, reachable by plain names ("overview") and, for code that prefers
# namespaces, as "dashboard:overview": the same views under both.
patient_patterns = [
    path("patients/<int:patient_id>/overview/", views.overview, name="overview"),
    path("patients/<int:patient_id>/trace/", views.trace, name="trace"),
    path("patients/<int:patient_id>/trace/day/<str:day>/", views.trace_day, name="trace_day"),
    path("patients/<int:patient_id>/agp/", views.agp, name="agp"),
    path("patients/<int:patient_id>/agp.pdf", views.agp_pdf, name="agp_pdf"),
    path("patients/<int:patient_id>/daily/", report_views.daily, name="daily"),
    path("patients/<int:patient_id>/patterns/", report_views.patterns, name="patterns"),
    path("patients/<int:patient_id>/statistics/", report_views.statistics, name="statistics"),
    path("patients/<int:patient_id>/compare/", report_views.compare, name="compare"),
    path("patients/<int:patient_id>/completeness/", report_views.data_completeness, name="completeness"),
    path("patients/<int:patient_id>/alerts/", views.alerts, name="alerts"),
    path("patients/<int:patient_id>/alarm-burden/", alarm_views.alarm_burden, name="alarm_burden"),
    path(
        "patients/<int:patient_id>/settings-timeline/",
        alarm_views.settings_timeline,
        name="settings_timeline",
    ),
    path("patients/<int:patient_id>/targets/", target_views.targets_page, name="targets"),
    path("patients/<int:patient_id>/events/", views.events, name="events"),
    path("patients/<int:patient_id>/devices/", views.devices, name="devices"),
    path("patients/<int:patient_id>/export/", views.export, name="export"),
    path("patients/<int:patient_id>/import/", views.import_view, name="import"),
    path("patients/<int:patient_id>/import/<int:job_id>/", views.import_job, name="import_job"),
    path(
        "patients/<int:patient_id>/import/<int:job_id>/status.json",
        views.import_job_status,
        name="import_job_status",
    ),
    path("digest/", report_views.digest_page, name="digest"),
    path("digest.pdf", report_views.digest_download, name="digest_pdf"),
    path("", views.home, name="home"),
]

urlpatterns = [
    *patient_patterns,
    path("", include((patient_patterns, "dashboard"))),
]
