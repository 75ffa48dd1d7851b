"""An account signed up through a clinician invitation link is a clinician account.

The invitation view stashes the link's token in the session (INVITATION_SESSION_KEY); when the
visitor then signs up with the form, allauth's user_signed_up makes the new account a
clinician. Everyone else signs up as a patient: the link, which only the invited person has, is
the only way to self-register as a clinician. A signup with Dexcom (sociallogin) stays a
patient. This lives in sharing, not in the accounts adapter, because accounts sits below sharing.
"""

from apps.sharing.services import invitation_by_token

INVITATION_SESSION_KEY = "sharing.invitation_token"


def make_invited_signup_a_clinician(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is not None or not _arrived_with_usable_invitation(request):
        return
    user.role = user.Role.CLINICIAN
    user.save(update_fields=["role"])


def _arrived_with_usable_invitation(request) -> bool:
    token = request.session.get(INVITATION_SESSION_KEY) if request else None
    invitation = invitation_by_token(token) if token else None
    return bool(invitation and invitation.is_usable)
