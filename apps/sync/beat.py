"""The beat entries of the sync engine, imported by settings.CELERY_BEAT_SCHEDULE.

django-celery-beat's DatabaseScheduler copies them into its PeriodicTask table when beat starts.
Kept free of Django imports so settings can import it.
"""

BEAT_SCHEDULE = {
    "sync-enqueue-due": {"task": "sync.enqueue_due_syncs", "schedule": 60.0},
}
