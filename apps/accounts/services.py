"""Account-level writes: deleting an account with everything that belongs to it."""

from django.apps import apps
from django.db import transaction

from apps.accounts.models import User

# (model label, patient field, what the user is told). Counted before deletion so the page
# says exactly what will go; the rows themselves go by ON DELETE CASCADE from the user.
OWNED_DATA = [
    ("glucose.Egv", "patient", "glucose readings"),
    ("glucose.Event", "patient", "events you entered"),
    ("glucose.Alert", "patient", "alert records"),
    ("glucose.Calibration", "patient", "calibrations"),
    ("glucose.Device", "patient", "devices and their alert settings"),
    ("glucose.DailySummary", "patient", "daily summaries"),
    ("dexcom.DexcomConnection", "user", "Dexcom connection with its stored access tokens"),
    ("sharing.Share", "patient", "shares of your data"),
    ("sharing.Share", "clinician", "shares made to you"),
    ("sharing.Invitation", "patient", "invitations"),
    ("sharing.ShareCode", "patient", "share codes"),
    ("sharing.AuditEntry", "patient", "audit entries about your data"),
]


def account_data_counts(*, user: User) -> list[tuple[str, int]]:
    """What deleting `user` removes, as (description, count) for the confirmation page."""
    counts = []
    for label, field, words in OWNED_DATA:
        model = apps.get_model(label)
        counts.append((words, model._default_manager.filter(**{field: user}).count()))
    return counts


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Delete the user and, by cascade, their readings, summaries, shares and Dexcom tokens.

    Dexcom offers no token revocation endpoint; deleting our only (encrypted) copy is what
    ends our access. Audit entries *they* wrote about others keep their email as text.
    """
    user.delete()
