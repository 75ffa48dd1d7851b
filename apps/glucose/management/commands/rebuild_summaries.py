"""manage.py rebuild_summaries (--user EMAIL | --all): recompute DailySummary from the readings.

The repair path for derived data: idempotent (running it twice writes the same rows), and it
prints what it rebuilt per patient.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef

from apps.accounts.models import User
from apps.glucose.models import DailySummary, Egv
from apps.glucose.summaries import rebuild_all_daily_summaries


class Command(BaseCommand):
    help = "Recompute the DailySummary rows of one patient (--user EMAIL) or of all (--all)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--user", help="the patient's email address")
        which.add_argument("--all", action="store_true", help="every patient with readings or summaries")

    def handle(self, *args, user=None, all=False, **options):
        patients = _patients(user) if user else _patients_with_data()
        rebuilt = 0
        for patient in patients:
            before, after = rebuild_all_daily_summaries(patient_id=patient.pk)
            self.stdout.write(f"{patient.email}: {after} days rebuilt ({before} before)")
            rebuilt += 1
        self.stdout.write(f"Rebuilt the daily summaries of {rebuilt} patient(s).")


def _patients(email: str):
    patients = list(User.objects.filter(email__iexact=email))
    if not patients:
        raise CommandError(f"No user with the email address {email}")
    return patients


def _patients_with_data():
    return User.objects.filter(
        Exists(Egv.objects.filter(patient=OuterRef("pk")))
        | Exists(DailySummary.objects.filter(patient=OuterRef("pk")))
    ).order_by("pk")
