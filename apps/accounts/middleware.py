"""Clinicians and admins: a second factor before any page, and shorter sessions."""

import time

from django.conf import settings
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse

# Pages a user without an authenticator may still reach: the way to set one up, signing out,
# email confirmation, static files, the site icon. Nothing under these shows patient data.
MFA_EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/emulator/",
    "/sharing/invitation/",
    "/favicon.ico",
    "/healthz/",
)
DEFAULT_CLINICIAN_IDLE_SECONDS = 30 * 60


def needs_mfa(user) -> bool:
    """Clinicians and anyone who can reach the admin must use a second factor."""
    return user.is_authenticated and (
        user.role in (user.Role.CLINICIAN, user.Role.ADMIN) or user.is_staff or user.is_superuser
    )


def is_page_navigation(request) -> bool:
    """Whether the request is the user opening a page (not a browser's background request).

    Browsers say so in the Fetch Metadata headers; a client without them (older browsers,
    scripts) counts when it asks for HTML with GET.
    """
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode == "navigate" and request.headers.get("Sec-Fetch-Dest", "document") == "document"
    accept = request.headers.get("Accept", "text/html")
    return request.method in ("GET", "HEAD") and ("text/html" in accept or "*/*" in accept)


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class ClinicianSecurityMiddleware:
    """Sends clinicians/staff without TOTP to the setup page; idles their sessions out.

    Runs after AuthenticationMiddleware. The TOTP check is a fresh query each request so
    removing an authenticator takes effect at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and needs_mfa(user):
            self._shorten_session(request)
            if not request.path.startswith(MFA_EXEMPT_PREFIXES) and not has_totp(user):
                return self._refuse_until_totp_is_set_up(request)
        return self.get_response(request)

    @staticmethod
    def _refuse_until_totp_is_set_up(request):
        # Only a page the user opened goes to the set-up page. A background request (an
        # image, a fetch, a prefetch) that followed a redirect there would render the set-up
        # page out of sight, and must not be where the user is taken anyway.
        if is_page_navigation(request):
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
        return HttpResponseForbidden("Set up two-factor authentication first.", content_type="text/plain")

    @staticmethod
    def _shorten_session(request):
        # Sliding idle timeout: requests push the expiry forward; a shared clinic workstation
        # left alone logs out on its own. Pushing it means writing the session row, so it is
        # pushed only when the last push is older than a minute (a tenth of the timeout if that
        # is shorter): a page view is then a read, and the timeout ends at most that much early.
        seconds = getattr(settings, "CLINICIAN_SESSION_IDLE_SECONDS", DEFAULT_CLINICIAN_IDLE_SECONDS)
        session = request.session
        now = int(time.time())
        pushed_at = session.get(IDLE_PUSHED_AT_KEY)
        recent = isinstance(pushed_at, int) and 0 <= now - pushed_at < _push_interval(seconds)
        if recent and session.get("_session_expiry") == seconds:
            return
        session.set_expiry(seconds)
        session[IDLE_PUSHED_AT_KEY] = now


# When the idle expiry was last pushed forward (epoch seconds), kept in the session itself.
IDLE_PUSHED_AT_KEY = "_dexweb_idle_pushed_at"
IDLE_PUSH_INTERVAL_SECONDS = 60


def _push_interval(idle_seconds: int) -> float:
    return min(IDLE_PUSH_INTERVAL_SECONDS, idle_seconds / 10)
