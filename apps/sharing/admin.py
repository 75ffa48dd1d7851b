"""Admin for clinics, shares, invitations, share codes and the (read-only) audit trail.

Secrets never appear: invitations and codes store only a hash, and the hash is not shown.
"""

from django.contrib import admin

from apps.sharing.models import AuditEntry, Clinic, DigestSubscription, Invitation, Share, ShareCode


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name", "members__email", "members__full_name"]
    filter_horizontal = ["members"]

    @admin.display(description="clinicians")
    def member_count(self, clinic):
        return clinic.members.count()


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["patient", "clinician", "clinic", "created_at", "expires_at", "revoked_at", "status"]
    list_filter = [
        ("revoked_at", admin.EmptyFieldListFilter),
        ("expires_at", admin.EmptyFieldListFilter),
        "clinic",
        "created_at",
    ]
    search_fields = ["patient__email", "patient__full_name", "clinician__email", "clinic__name"]
    raw_id_fields = ["patient", "clinician", "revoked_by"]
    readonly_fields = ["created_at", "revoked_by"]
    date_hierarchy = "created_at"


class _SecretAdmin(admin.ModelAdmin):
    list_filter = [
        "created_at",
        "expires_at",
        ("used_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["patient__email", "patient__full_name", "used_by__email"]
    # secret_hash is editable=False, so it is neither shown nor settable here.
    readonly_fields = ["patient", "created_at", "used_at", "used_by", "share", "status"]
    exclude = ["secret_hash"]

    def has_add_permission(self, request):
        return False  # made by patients, with a secret only they see


@admin.register(Invitation)
class InvitationAdmin(_SecretAdmin):
    list_display = ["patient", "email", "created_at", "expires_at", "status"]
    search_fields = _SecretAdmin.search_fields + ["email"]


@admin.register(ShareCode)
class ShareCodeAdmin(_SecretAdmin):
    list_display = ["patient", "created_at", "expires_at", "used_by", "status"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_email", "patient", "action", "page", "ip_address"]
    list_filter = ["action", "page", "at"]
    search_fields = ["actor_email", "patient__email", "patient__full_name", "ip_address", "path"]
    date_hierarchy = "at"
    list_select_related = ["patient"]

    def get_actions(self, request):
        return {}  # not even "delete selected"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    """Who gets the weekly digest email, and when it last went (an admin may turn one off)."""

    list_display = ("clinician", "created_at", "last_sent_at")
    readonly_fields = ("clinician", "created_at", "last_sent_at")
    search_fields = ("clinician__email",)

    def has_add_permission(self, request):
        return False  # only the clinician asks for it, on the digest page
