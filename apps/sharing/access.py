"""Who may see whose data. Every view that shows patient data goes through here.

Refusals raise Http404 rather than 403 so a stranger cannot learn that a patient exists.
Grants are read from the database on each call, never cached, so a revoked or expired share
stops working on the very next request.
"""

from django.http import Http404

from apps.accounts.models import User
from apps.sharing import selectors, services


def patient_for_viewer(request, patient_id: int, *, page: str) -> User:
    """The patient whose `page` the request's user may see, or Http404.

    Allowed: the patient themself; a clinician with an active share (direct or through one of
    their clinics); staff holding sharing.view_all_patient_data. `page` names what is being
    looked at ("overview", "trace", "agp", "metrics-api"...); every look by anyone other than
    the patient is written to the audit trail before the data is returned.
    """
    patient = selectors.patient_visible_to(viewer=request.user, patient_id=int(patient_id))
    if patient is None:
        raise Http404("No such patient")
    if patient.pk != request.user.pk:
        services.audit_record_view(request=request, patient=patient, page=page)
    return patient

