from django import forms

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ClarityUploadForm(forms.Form):
    file = forms.FileField(label="Dexcom Clarity CSV export")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; export a shorter period.")
        return upload
