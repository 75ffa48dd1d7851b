"""allauth adapters: where dexweb differs from allauth's defaults."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

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


def _arrived_with_usable_invitation(request) -> bool:
    from apps.sharing.services import invitation_by_token

    token = request.session.get(INVITATION_SESSION_KEY) if request else None
    invitation = invitation_by_token(token) if token else None
    return bool(invitation and invitation.is_usable)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    pass
