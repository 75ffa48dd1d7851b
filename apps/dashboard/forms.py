from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.accounts.models import timezone_choices

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
