"""manage.py sandbox_load_csv --user SandboxUser3 trace.csv [--timezone Europe/Paris]

Loads a recorded trace (timestamp, mg/dL; formats in apps/sandbox/csv_traces.py) into a sandbox
user. From then on the emulator serves those readings instead of the synthetic ones between the
trace's first and last timestamp, so real data replays through sync, metrics and charts.
Loading again over the same span replaces the readings there.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.sandbox import services
from apps.sandbox.csv_traces import TraceFileError, read_trace
from apps.sandbox.models import RecordedReading, RecordedTrace, SandboxUser


class Command(BaseCommand):
    help = "Load a recorded CGM trace (CSV: timestamp, mg/dL) into a sandbox user of the emulator."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with columns timestamp, mg/dL")
        parser.add_argument("--user", required=True, help='sandbox user key, e.g. "SandboxUser1"')
        parser.add_argument("--timezone", default="UTC", help="zone of timestamps without an offset")

    def handle(self, *args, file, user, timezone, **options):
        services.ensure_sandbox_users()
        sandbox_user = SandboxUser.objects.filter(key=user).first()
        if sandbox_user is None:
            known = ", ".join(SandboxUser.objects.values_list("key", flat=True))
            raise CommandError(f"unknown sandbox user {user!r}; known: {known}")
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                readings = read_trace(handle, timezone_name=timezone)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        except TraceFileError as error:
            raise CommandError(f"{file}: {error}") from None
        trace = self._store(sandbox_user, file, readings)
        self.stdout.write(
            f"Loaded {len(readings)} readings into {user} from {trace.start:%Y-%m-%d %H:%M} "
            f"to {trace.end:%Y-%m-%d %H:%M} UTC."
        )

    @transaction.atomic
    def _store(self, sandbox_user, file, readings):
        start, end = readings[0].system_time, readings[-1].system_time
        RecordedReading.objects.filter(
            sandbox_user=sandbox_user, system_time__gte=start, system_time__lte=end
        ).delete()
        trace = RecordedTrace.objects.create(
            sandbox_user=sandbox_user, source_name=str(file), start=start, end=end
        )
        RecordedReading.objects.bulk_create(
            [
                RecordedReading(
                    trace=trace, sandbox_user=sandbox_user, system_time=r.system_time, value=r.value
                )
                for r in readings
            ],
            batch_size=2000,
        )
        return trace
