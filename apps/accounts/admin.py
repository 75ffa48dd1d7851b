from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse

from apps.accounts.models import User


def _login_through_allauth(request, extra_context=None):
    """The admin signs in through allauth's form, so TOTP and lockout apply there too.

    Django's own admin login would check only the password. Someone already signed in who is
    not staff gets a plain 404: sending them to the sign-in page would bounce them straight
    back here (they are signed in), forever.
    """
    if request.user.is_authenticated:
        raise Http404("No such page.")
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("account_login")
    )


admin.site.login = _login_through_allauth


@admin.action(description="Deactivate selected users (they can no longer sign in)")
def deactivate_users(modeladmin, request, queryset):
    # Deactivating rather than deleting keeps their data and the audit trail intact; an
    # inactive user fails authentication and every access check at once.
    count = queryset.exclude(pk=request.user.pk).update(is_active=False)
    modeladmin.message_user(request, f"{count} user(s) deactivated.", messages.SUCCESS)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["email", "full_name"]
    actions = [deactivate_users]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "role", "timezone", "glucose_unit"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})]


# allauth's admin shows Authenticator.data, which holds the (encrypted) TOTP secret and recovery
# seed. Staff need to see who has which factor and may delete one (a lost phone), never the secret.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # a second factor is set up by its owner, who must scan the secret
