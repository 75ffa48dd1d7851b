"""allauth adapters: where dexweb differs from allauth's defaults."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import PermissionDenied

from apps.accounts import encryption
from apps.accounts.client_address import client_ip
from apps.accounts.mfa import is_adding_a_first_factor_just_after_sign_in


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        """allauth's rate limits count per client address: the trusted one, as everywhere."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine client IP address")
        return address

    def _get_login_attempts_cache_key(self, request, **credentials):
        """allauth limits failed logins per address typed (5 in 5 minutes) from anywhere, so anyone
        who knows an email address could keep its owner out. Count per (address typed, client)
        instead, as django-axes does (AXES_LOCKOUT_PARAMETERS); allauth's per-client limit of
        failures over all addresses still applies.
        """
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_ip(request)}"

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """No second password prompt for a first authenticator added just after signing in.

        allauth asks for the password again before any change to authenticators. A clinician
        or admin who has just signed in (or signed up) and is being made to add their first
        second factor would type the password twice in a row; the rule protects existing
        factors from someone at an unattended session, and here there are none yet and the
        password was given moments ago.
        """
        if app == "allauth.mfa" and is_adding_a_first_factor_just_after_sign_in(self.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    pass


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted, never in clear.

    allauth calls encrypt() on each secret before it saves an Authenticator and decrypt() when it
    checks a code; a secret no configured key opens raises encryption.DecryptionError.
    """

    def encrypt(self, text: str) -> str:
        return encryption.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return encryption.decrypt(encrypted_text)
