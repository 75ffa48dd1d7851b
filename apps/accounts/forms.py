import zoneinfo

from django import forms

from apps.accounts.models import User, timezone_choices


class AccountSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=timezone_choices,
        help_text="Used for your days (what \u201ctoday\u201d is), for Dexcom records that carry "
        "no UTC offset (receivers), and to read the local times of a Clarity export "
        "(the import page lets you choose another zone for one file).",
    )

    class Meta:
        model = User
        fields = ["full_name", "timezone", "glucose_unit"]


class AccountDeletionForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password, to confirm",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class BrowserTimezoneInput(forms.HiddenInput):
    """A hidden field that static/js/browser-timezone.js fills with the browser's time zone, and
    a line that shows the visitor which zone was found (or that none was)."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.templatetags.static import static
        from django.utils.html import format_html

        return format_html(
            '{}<p class="hint" data-browser-timezone-shown>Time zone: not detected; it will be '
            'UTC until you choose yours in Settings.</p><script src="{}" defer></script>',
            super().render(name, value, {**(attrs or {}), "data-browser-timezone": ""}, renderer),
            static("js/browser-timezone.js"),
        )


class SignupTimezoneForm(forms.Form):
    """allauth's ACCOUNT_SIGNUP_FORM_CLASS: the new account's time zone comes from the browser.

    An empty or unknown value (no JavaScript, an odd browser) leaves the default (UTC); the
    adapter then tells the new user so, instead of using UTC silently.
    """

    # No max_length: an odd value must not block the sign-up, it is only ignored (clean_timezone).
    timezone = forms.CharField(required=False, widget=BrowserTimezoneInput)

    def clean_timezone(self):
        name = self.cleaned_data["timezone"].strip()
        return name if name in zoneinfo.available_timezones() else ""

    def signup(self, request, user):
        if self.cleaned_data.get("timezone"):
            user.timezone = self.cleaned_data["timezone"]
            user.save(update_fields=["timezone"])
        elif request is not None:
            from django.contrib import messages

            messages.warning(
                request,
                "We could not read your time zone from your browser, so "
                "times without an offset are read as UTC. Choose your time zone in "
                "Settings.",
            )
