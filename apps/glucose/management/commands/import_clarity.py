"""manage.py import_clarity --user EMAIL [--timezone ZONE] FILE: import a Clarity CSV export."""

import zoneinfo

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.glucose.clarity import ClarityFormatError, import_clarity_file


class Command(BaseCommand):
    help = "Import a Dexcom Clarity CSV export for a patient (readings already stored are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the patient's email address")
        parser.add_argument("--timezone", help="zone of the file's local times (default: the user's)")
        parser.add_argument("file", help="the Clarity CSV export")

    def handle(self, *args, user, file, timezone=None, **options):
        try:
            patient = User.objects.get(email__iexact=user)
        except User.DoesNotExist:
            raise CommandError(f"No user with the email address {user}") from None
        tzinfo = _zone(timezone) if timezone else patient.tzinfo
        self.stdout.write(f"Reading local times in {tzinfo}.")
        try:
            with open(file, "rb") as stream:
                result = import_clarity_file(patient=patient, stream=stream, tzinfo=tzinfo)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except ClarityFormatError as error:
            raise CommandError(f"{file}: {error}") from None
        self.stdout.write(result.summary())
        for line, reason in result.skipped_rows:
            self.stdout.write(f"  left out line {line}: {reason}")


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CommandError(f"Unknown time zone {name!r}") from None
