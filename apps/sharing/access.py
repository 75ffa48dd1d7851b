"""Who may see whose data. Every view that shows patient data goes through here.

Refusals raise Http404 rather than 403 so a stranger cannot learn that a patient exists.
Grants are read from the database on each call, never cached, so a revoked or expired share
stops working on the very next request.

A look is audited only once it was served: patient_for_viewer notes it on the request and
AuditServedViewsMiddleware writes it when the response is a 2xx, so a page refused after the
access check (an unknown day, a patient-only page) is never recorded as "viewed".
"""

from django.http import Http404

from apps.accounts.models import User
from apps.sharing import selectors, services
from apps.sharing.audit_context import audit_context_of


def patient_for_viewer(request, patient_id: int, *, page: str) -> User:
    """The patient whose `page` the request's user may see, or Http404.

    Allowed: the patient themself; a clinician with an active share (direct or through one of
    their clinics); staff holding sharing.view_all_patient_data. `page` names what is being
    looked at ("overview", "trace", "agp", "metrics-api"...); every look by anyone other than
    the patient is written to the audit trail if the page is served (see the middleware below).
    """
    patient = selectors.patient_visible_to(viewer=request.user, patient_id=int(patient_id))
    if patient is None:
        raise Http404("No such patient")
    if patient.pk != request.user.pk:
        _looks_to_audit(request).append((patient, page))
    return patient


def may_act_for(viewer: User, patient: User) -> bool:
    """Whether `viewer` may change how `patient`'s data is judged (their target set): the
    patient, or a clinician with an active share, read fresh like every grant. Staff's
    permission to see every patient's data is for looking, never for changing."""
    if viewer.pk == patient.pk:
        return True
    return viewer.is_clinician and selectors.patients_shared_with(viewer).filter(pk=patient.pk).exists()


def _looks_to_audit(request) -> list:
    if not hasattr(request, "_patient_looks_to_audit"):
        request._patient_looks_to_audit = []
    return request._patient_looks_to_audit


class AuditServedViewsMiddleware:
    """Write the audit entries of the patient data this response serves, and only if it does.

    A 2xx response is data served; a 404 (refused after the access check), a redirect or an
    error is not. The entry is written before the response leaves: if writing it fails, the
    request fails and the data is not sent unaudited.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if 200 <= response.status_code < 300:
            for patient, page in getattr(request, "_patient_looks_to_audit", ()):
                services.audit_record_view(audit=audit_context_of(request), patient=patient, page=page)
        return response
