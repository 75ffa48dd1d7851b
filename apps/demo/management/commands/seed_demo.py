"""manage.py seed_demo: the demo sign-ins, the patient's emulator connection and the share.

Idempotent: a second run reuses the users, the connection and the share. Connecting goes over
HTTP to DEXCOM_BASE_URL (the emulator served by this site), so the web server must answer first;
run_demo starts it before seeding.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.demo import services


class Command(BaseCommand):
    help = "Create the demo users (one password), connect the demo patient to the emulator, share."

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-dexcom",
            action="store_true",
            help="Do not connect the demo patient to the emulator (no web server needed).",
        )

    def handle(self, *args, skip_dexcom=False, **options):
        self.stdout.write(f"Demo password for every demo login: {services.DEMO_PASSWORD}")
        users = self._seed_users()
        patient, clinician = users[services.DEMO_PATIENT.email], users[services.DEMO_CLINICIAN.email]
        if skip_dexcom:
            self.stdout.write("Dexcom: skipped (--skip-dexcom)")
        else:
            self._connect_patient(patient)
        self._report("Sharing", services.demo_share_ensure(patient, clinician))

    def _seed_users(self) -> dict:
        users = {}
        for spec in services.DEMO_USERS:
            user, state = services.demo_user_ensure(spec)
            users[spec.email] = user
            self.stdout.write(f"  {spec.email:<24} {spec.role:<10} {state}")
        return users

    def _connect_patient(self, patient) -> None:
        self.stdout.write(
            f"Dexcom: connecting {patient.email} to emulator user {services.DEMO_SANDBOX_USER_KEY} "
            f"at {settings.DEXCOM_BASE_URL} and backfilling {settings.SYNC_BACKFILL_DAYS} days..."
        )
        self.stdout.flush()
        try:
            result = services.demo_patient_connect(patient)
        except OSError as error:  # requests' ConnectionError is an OSError too
            raise CommandError(
                f"Dexcom: could not reach {settings.DEXCOM_BASE_URL} ({error}). The emulator is "
                "served by the web server: start it first (run_demo does), or pass --skip-dexcom."
            ) from error
        self._report("Dexcom", result)

    def _report(self, step: str, result: services.StepResult) -> None:
        style = self.style.SUCCESS if result.done else self.style.WARNING
        self.stdout.write(style(f"{step}: {result.message}"))
