"""Who may see whose data. Every view that shows patient data goes through here.

Refusals raise Http404 rather than 403 so a stranger cannot learn that a patient exists.
"""

from django.http import Http404

from apps.accounts.models import User


def patient_for_viewer(viewer, patient_id: int) -> User:
    """The patient `viewer` may look at, or Http404."""
    if not viewer.is_authenticated:
        raise Http404
    if viewer.pk == patient_id:
        return viewer
    raise Http404
