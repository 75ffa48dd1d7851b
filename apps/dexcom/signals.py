"""Keep our encrypted copy of the tokens whenever allauth links a Dexcom account to a user.

allauth does not store tokens (SOCIALACCOUNT_STORE_TOKENS = False); the adapter already
replaced the token values with ciphertext in complete_login, so they are stored as they are.
Three moments link an account: connecting from settings (social_account_added), logging in with
an already linked account, which also re-authorizes one that needed it (social_account_updated),
and signing up with Dexcom (user_signed_up).
"""

from allauth.account.signals import user_signed_up
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.dispatch import receiver

from apps.dexcom.services import PROVIDER_ID, store_connection


def _store_from_sociallogin(sociallogin: SocialLogin, user) -> None:
    if sociallogin is None or sociallogin.account.provider != PROVIDER_ID:
        return
    token = sociallogin.token
    if token is None or not token.token_secret or user is None or user.pk is None:
        return
    store_connection(
        user=user,
        dexcom_user_id=sociallogin.account.uid,
        access_token_encrypted=token.token,
        refresh_token_encrypted=token.token_secret,
        expires_at=token.expires_at,
    )


@receiver(social_account_added)
def on_social_account_added(sender, request, sociallogin, **kwargs):
    _store_from_sociallogin(sociallogin, sociallogin.user)


@receiver(social_account_updated)
def on_social_account_updated(sender, request, sociallogin, **kwargs):
    owner = sociallogin.account.user
    if request is not None and request.user.is_authenticated and request.user.pk != owner.pk:
        # Someone signed in as another user brought the owner's Dexcom account: the adapter
        # refuses that before this point; never store their tokens on the owner's connection.
        return
    _store_from_sociallogin(sociallogin, owner)


@receiver(user_signed_up)
def on_user_signed_up(sender, request, user, sociallogin=None, **kwargs):
    _store_from_sociallogin(sociallogin, user)
