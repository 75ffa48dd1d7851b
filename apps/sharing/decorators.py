"""Role checks for sharing pages. Wrong role -> 404, like every other refusal here."""

from functools import wraps

from django.http import Http404


def clinician_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_clinician:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def patient_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_patient:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
