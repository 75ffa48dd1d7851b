from django.apps import AppConfig
from django.conf import settings
from django.core import checks

AUDIT_MIDDLEWARE = "apps.sharing.access.AuditServedViewsMiddleware"


def audit_middleware_installed(app_configs, **kwargs):
    # Without it, clinicians' looks at patient data would go unaudited, silently.
    if AUDIT_MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [checks.Error(f"{AUDIT_MIDDLEWARE} must be in MIDDLEWARE", id="sharing.E001")]


class SharingConfig(AppConfig):
    name = "apps.sharing"
    label = "sharing"

    def ready(self):
        from allauth.account.signals import user_signed_up

        from apps.sharing.signup import make_invited_signup_a_clinician

        checks.register(audit_middleware_installed)
        user_signed_up.connect(make_invited_signup_a_clinician, dispatch_uid="sharing.invited_signup")
