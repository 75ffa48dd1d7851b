"""manage.py sandbox_token --user SandboxUser1 [--client-id ID] [--redirect-uri URL]

Authorizes a client for a sandbox user without the consent page and prints an access token,
a refresh token and ready-to-paste curl commands (see apps/sandbox/views.py for the full flow).
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import services


class Command(BaseCommand):
    help = "Print emulator tokens for a sandbox user, for trying the API with curl."

    def add_arguments(self, parser):
        parser.add_argument("--user", default="SandboxUser1")
        parser.add_argument("--client-id", default=settings.DEXCOM_CLIENT_ID)
        parser.add_argument("--redirect-uri", default=settings.DEXCOM_REDIRECT_URI)
        parser.add_argument("--base-url", default=settings.DEXWEB_PUBLIC_URL + "/emulator")

    def handle(self, *args, user, client_id, redirect_uri, base_url, **options):
        try:
            code = services.authorization_code_for(
                sandbox_user_key=user, client_id=client_id, redirect_uri=redirect_uri
            )
            issued = services.exchange_authorization_code(
                client_id=client_id, code=code, redirect_uri=redirect_uri
            )
        except services.OAuthError as error:
            raise CommandError(f"{error.error}: {error.description}") from None
        end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        window = f"startDate={(end - timedelta(days=1)):%Y-%m-%dT%H:%M:%S}&endDate={end:%Y-%m-%dT%H:%M:%S}"
        self.stdout.write(f"access_token:  {issued.access_token}")
        self.stdout.write(f"refresh_token: {issued.refresh_token}")
        self.stdout.write(
            f'curl -s -H "Authorization: Bearer {issued.access_token}" "{base_url}/v3/users/self/egvs?{window}"'
        )
        self.stdout.write(
            f"curl -s -X POST {base_url}/v3/oauth2/token -d grant_type=refresh_token "
            f"-d refresh_token={issued.refresh_token} -d client_id={client_id} "
            f"-d client_secret=YOUR_CLIENT_SECRET"
        )
