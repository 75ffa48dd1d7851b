"""Re-encrypt every stored secret under the newest key of TOKEN_ENCRYPTION_KEYS.

The Dexcom tokens and the second factor's secrets (apps.accounts.mfa_secrets) share the key ring.

Run after putting a new key first in the list; afterwards the old keys can be removed.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.mfa_secrets import mfa_secrets_rotate
from apps.dexcom.crypto import reencrypt_token
from apps.dexcom.models import DexcomConnection


class Command(BaseCommand):
    help = "Re-encrypt all Dexcom tokens and MFA secrets under the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        rotated = 0
        for pk in DexcomConnection.objects.values_list("pk", flat=True):
            rotated += self._rotate(pk)
        self.stdout.write(f"Re-encrypted the tokens of {rotated} connection(s).")
        authenticators = mfa_secrets_rotate()
        self.stdout.write(f"Re-encrypted the secrets of {authenticators} second factor(s).")

    def _rotate(self, pk: int) -> int:
        with transaction.atomic():
            connection = DexcomConnection.objects.select_for_update().get(pk=pk)
            if not connection.access_token_encrypted and not connection.refresh_token_encrypted:
                return 0
            # Compare-and-set on the ciphertext: a concurrent refresh wins, and then its new
            # pair is already under the newest key.
            DexcomConnection.objects.filter(
                pk=pk,
                access_token_encrypted=connection.access_token_encrypted,
                refresh_token_encrypted=connection.refresh_token_encrypted,
            ).update(
                access_token_encrypted=reencrypt_token(connection.access_token_encrypted),
                refresh_token_encrypted=reencrypt_token(connection.refresh_token_encrypted),
            )
        return 1
