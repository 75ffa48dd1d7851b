"""Second-factor set-up: the secret stays put until activated; no password asked twice."""

import time

from allauth.account import app_settings as account_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms


class ActivateTOTPForm(AllauthActivateTOTPForm):
    """allauth's form, minus a fresh secret on every GET of the activation page.

    allauth draws a new secret each time the page is shown. Any stray request that lands there
    (a reload, a second tab, a browser's background request that got redirected) then replaces
    the secret the user has just scanned, and every code they type is refused. The secret lives
    in the session until activation succeeds (allauth clears it then), so it is as private as
    the signed-in session itself.
    """

    def __init__(self, *args, **kwargs):
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = totp_auth.get_totp_secret(regenerate=False)


# When this session signed in (any way: password, sign-up, email confirmation, Dexcom). allauth
# keeps its own record only for some of these ways, and none for a sign-up.
SIGNED_IN_AT_SESSION_KEY = "accounts.signed_in_at"


def remember_sign_in_time(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver (connected in AccountsConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()


def is_adding_a_first_factor_just_after_sign_in(request) -> bool:
    """Whether the user has no second factor yet and this session signed in moments ago."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if Authenticator.objects.filter(user=user).exists():
        return False
    signed_in_at = request.session.get(SIGNED_IN_AT_SESSION_KEY, 0)
    return time.time() - signed_in_at <= account_settings.REAUTHENTICATION_TIMEOUT
