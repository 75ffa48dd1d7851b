"""The beat entries of the dashboard, imported by settings.CELERY_BEAT_SCHEDULE (no Django
imports, so settings can import it)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Monday 06:00 UTC: the week that ended is complete in every time zone of the Americas and
    # Europe, and the digest is waiting at the start of the working week.
    "dashboard-weekly-digests": {
        "task": "dashboard.send_weekly_digests",
        "schedule": crontab(minute=0, hour=6, day_of_week=1),
    },
}
