from django import forms

from apps.accounts.models import User, timezone_choices


class AccountSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=timezone_choices)

    class Meta:
        model = User
        fields = ["full_name", "timezone", "glucose_unit"]
