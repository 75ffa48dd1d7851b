from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from apps.glucose.snapshots import TRIAGE_PERIOD_DAYS
from apps.sharing.models import Clinic


class ExpiryField(forms.DateField):
    """An optional last day of sharing, in the patient's own calendar."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Share until (optional)")
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)


def end_of_day(day, tzinfo) -> datetime | None:
    """The instant the patient's chosen last day ends (midnight after it, their time)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tzinfo)


class _ExpiryForm(forms.Form):
    share_until = ExpiryField()

    def clean_share_until(self):
        day = self.cleaned_data["share_until"]
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("Pick today or a later day.")
        return day


class InvitationForm(_ExpiryForm):
    email = forms.EmailField(label="Clinician's email address")

    field_order = ["email", "share_until"]


class ShareCodeForm(_ExpiryForm):
    pass


class ShareExpiryForm(_ExpiryForm):
    pass


class EnterShareCodeForm(forms.Form):
    code = forms.CharField(
        max_length=20, label="Share code", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class TriageForm(forms.Form):
    PERIODS = [(days, f"{days} days") for days in TRIAGE_PERIOD_DAYS]  # kept current by the sync

    period = forms.TypedChoiceField(choices=PERIODS, coerce=int, required=False)
    q = forms.CharField(required=False, label="Search")
    sort = forms.CharField(required=False)
    order = forms.ChoiceField(choices=[("", ""), ("asc", "asc"), ("desc", "desc")], required=False)


class ClinicShareForm(_ExpiryForm):
    clinic = forms.ModelChoiceField(queryset=None, label="Clinic")

    field_order = ["clinic", "share_until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.all()
