"""allauth adapters: where dexweb differs from allauth's defaults."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from apps.accounts.mfa import is_adding_a_first_factor_just_after_sign_in

# Set by apps.sharing.views.invitation when a visitor arrives through an invitation link.
INVITATION_SESSION_KEY = "sharing.invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        """A signup through a valid clinician invitation makes a clinician account.

        Everyone else signs up as a patient; the link (which only the invited person has) is
        the only way to self-register as a clinician.
        """
        user = super().save_user(request, user, form, commit=False)
        if _arrived_with_usable_invitation(request):
            user.role = user.Role.CLINICIAN
        if commit:
            user.save()
        return user

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


def _arrived_with_usable_invitation(request) -> bool:
    from apps.sharing.services import invitation_by_token

    token = request.session.get(INVITATION_SESSION_KEY) if request else None
    invitation = invitation_by_token(token) if token else None
    return bool(invitation and invitation.is_usable)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    pass
