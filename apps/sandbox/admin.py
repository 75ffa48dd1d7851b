"""Admin for the emulator's rows. Token hashes are never shown (they would be useless anyway,
but a hash on screen invites copying it somewhere)."""

from django.contrib import admin

from apps.sandbox import services
from apps.sandbox.models import (
    AccessToken,
    AuthorizationCode,
    Fault,
    Grant,
    RateCounter,
    RecordedTrace,
    RefreshToken,
    SandboxUser,
)


@admin.register(SandboxUser)
class SandboxUserAdmin(admin.ModelAdmin):
    list_display = ["key", "description", "created_at"]
    search_fields = ["key", "description"]


@admin.action(description="Revoke the selected authorizations")
def revoke(modeladmin, request, queryset):
    for grant in queryset:
        services.revoke_grant(grant_id=grant.pk)


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["sandbox_user", "client_id", "authorized_at", "revoked_at"]
    list_filter = ["client_id"]
    search_fields = ["sandbox_user__key", "client_id"]
    actions = [revoke]


class TokenAdmin(admin.ModelAdmin):
    """Shows when a token was made and its state; the hash column is left out on purpose."""

    exclude = ["token_hash"]
    readonly_fields = ["grant", "created_at"]
    list_select_related = ["grant__sandbox_user"]

    def has_add_permission(self, request):
        return False


@admin.register(AccessToken)
class AccessTokenAdmin(TokenAdmin):
    list_display = ["grant", "created_at", "expires_at"]


@admin.register(RefreshToken)
class RefreshTokenAdmin(TokenAdmin):
    list_display = ["grant", "created_at", "used_at"]


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(TokenAdmin):
    exclude = ["code_hash"]
    list_display = ["grant", "created_at", "expires_at", "used_at"]


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin):
    list_display = ["kind", "endpoint", "sandbox_user_key", "remaining", "params", "created_at"]
    list_filter = ["kind", "endpoint"]


@admin.register(RateCounter)
class RateCounterAdmin(admin.ModelAdmin):
    list_display = ["client_id", "window_start", "count"]


@admin.register(RecordedTrace)
class RecordedTraceAdmin(admin.ModelAdmin):
    list_display = ["sandbox_user", "source_name", "start", "end", "loaded_at"]
