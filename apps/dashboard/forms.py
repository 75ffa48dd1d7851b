from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.accounts.models import timezone_choices
from apps.glucose import targets

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def max_upload_bytes() -> int:
    """CLARITY_UPLOAD_MAX_BYTES: the largest Clarity export accepted (settings.py)."""
    return getattr(settings, "CLARITY_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def too_large_message() -> str:
    return (
        f"The file is larger than {filesizeformat(max_upload_bytes())}; export a shorter period from Clarity."
    )


class ClarityUploadForm(forms.Form):
    file = forms.FileField(label="Dexcom Clarity CSV export")
    timezone = forms.ChoiceField(
        choices=timezone_choices,
        label="Time zone of the times in the file",
        help_text="Clarity writes the local time of the device without a UTC offset; the file is "
        "read in this zone (your account's zone unless you choose another).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_large_message())
        return upload


class TargetsForm(forms.Form):
    """The target set; for custom, a range in the patient's unit and three goals.

    The numbers are read as text (a comma is a decimal point too) and checked by
    apps.glucose.targets.custom_errors, the one definition of a sane custom set."""

    target_set = forms.ChoiceField(choices=targets.CHOICES, widget=forms.RadioSelect, label="Target set")
    low = forms.CharField(required=False, label="Low limit")
    high = forms.CharField(required=False, label="High limit")
    in_range_min = forms.CharField(required=False, label="In range: more than (%)")
    below_max = forms.CharField(required=False, label="Below range: less than (%)")
    above_max = forms.CharField(required=False, label="Above range: less than (%)")

    def __init__(self, *args, unit: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.fields["low"].label = f"Low limit ({unit})"
        self.fields["high"].label = f"High limit ({unit})"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target_set") != targets.CUSTOM:
            cleaned["custom"] = None
            return cleaned
        custom = targets.CustomChoice(
            low=targets.parse_number(cleaned.get("low")),
            high=targets.parse_number(cleaned.get("high")),
            unit=self.unit,
            in_range_min=targets.parse_number(cleaned.get("in_range_min")),
            below_max=targets.parse_number(cleaned.get("below_max")),
            above_max=targets.parse_number(cleaned.get("above_max")),
        )
        for field, message in targets.custom_errors(custom).items():
            self.add_error(field if field in self.fields else None, message)
        cleaned["custom"] = custom
        return cleaned


def targets_initial(target_set, custom, unit: str) -> dict:
    """The form as the patient's set fills it: the custom numbers last entered (the range as
    the patient's unit writes it, should they have changed unit since), else the standard set's."""
    if custom is not None:
        low, high = targets.custom_set(custom).range_in(unit)
        numbers = {
            "low": low,
            "high": high,
            "in_range_min": custom.in_range_min,
            "below_max": custom.below_max,
            "above_max": custom.above_max,
        }
    else:
        low, high = targets.STANDARD_SET.range_in(unit)
        numbers = {"low": low, "high": high, "in_range_min": 70, "below_max": 4, "above_max": 25}
    return {"target_set": target_set.key, **{k: _plain(v) for k, v in numbers.items()}}


def _plain(value) -> str:
    """1.0 -> "1", 3.9 -> "3.9" (Decimal's own text would say 70.0 for a whole number)."""
    text = f"{value:f}" if hasattr(value, "as_tuple") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text
