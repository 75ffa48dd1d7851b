"""Sync one user, or every active connection, now: `manage.py dexcom_sync --user EMAIL | --all`."""

from django.core.management.base import BaseCommand, CommandError

from apps.dexcom import client
from apps.dexcom.models import DexcomConnection
from apps.sync import services


class Command(BaseCommand):
    help = "Sync Dexcom data now, in this process (no worker needed)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", metavar="EMAIL", help="the patient's email address")
        target.add_argument("--all", action="store_true", help="every active connection")
        parser.add_argument(
            "--backfill", action="store_true", help="refetch the whole history (SYNC_BACKFILL_DAYS)"
        )

    def handle(self, *args, user=None, all=False, backfill=False, **options):
        connections = DexcomConnection.objects.filter(status=DexcomConnection.Status.ACTIVE)
        if user:
            connections = connections.filter(user__email__iexact=user)
            if not connections.exists():
                raise CommandError(f"{user} has no active Dexcom connection")
        failures = 0
        for connection in connections.select_related("user"):
            failures += self._sync(connection, backfill=backfill)
        if failures:
            raise CommandError(f"{failures} sync(s) failed")

    def _sync(self, connection, *, backfill: bool) -> int:
        try:
            if backfill:
                run = services.backfill_connection(connection_id=connection.pk, restart=True)
            else:
                run = services.sync_connection(connection_id=connection.pk)
        except client.DexcomError as error:
            self.stderr.write(f"{connection.user.email}: failed: {error}")
            return 1
        if run is None:
            self.stdout.write(f"{connection.user.email}: skipped (a sync is already running)")
            return 0
        self.stdout.write(
            f"{connection.user.email}: {run.status}, {run.total_records} records, "
            f"{run.quarantined} quarantined, {run.api_calls} API calls"
        )
        return 0 if run.status == run.Status.SUCCEEDED else 1
