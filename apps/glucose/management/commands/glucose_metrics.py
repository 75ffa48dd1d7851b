"""manage.py glucose_metrics --user EMAIL --start YYYY-MM-DD --end YYYY-MM-DD: the API's JSON."""

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.models import User
from apps.glucose.localtime import BadPeriod, period_from_dates
from apps.glucose.reports.patient import local_now_for
from apps.glucose.reports.period_metrics import period_metrics_report


class Command(BaseCommand):
    help = "Print a patient's consensus metrics and AGP percentiles for local days start..end (inclusive)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the patient's email address")
        parser.add_argument("--start", required=True, help="first local day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last local day, YYYY-MM-DD (included)")

    def handle(self, *args, user, start, end, **options):
        try:
            patient = User.objects.get(email__iexact=user)
        except User.DoesNotExist:
            raise CommandError(f"No user with the email address {user}") from None
        local_now = local_now_for(patient, now=timezone.now())
        try:
            period = period_from_dates(start, end, local_now=local_now, tzinfo=patient.tzinfo)
        except BadPeriod as error:
            raise CommandError(str(error)) from None
        report = period_metrics_report(patient=patient, period=period)
        self.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
