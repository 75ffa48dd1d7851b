"""manage.py demo_totp: the current second-factor code of the demo clinician and admin."""

from django.core.management.base import BaseCommand

from apps.demo import services


class Command(BaseCommand):
    help = "Print the current TOTP code for the demo clinician and admin (demo secret only)."

    def handle(self, *args, **options):
        code, seconds_left = services.demo_totp_code()
        emails = ", ".join(spec.email for spec in services.DEMO_USERS if spec.needs_totp)
        self.stdout.write(f"{code}  (for {emails}; valid {seconds_left} s more)")
