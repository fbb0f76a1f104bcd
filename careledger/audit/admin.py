from django.contrib import admin
from django.http import HttpRequest

from careledger.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the admin can list and open events, never add, change or delete them."""

    list_display = ["occurred_at", "event", "outcome", "actor_username", "practice", "patient_id"]
    list_filter = ["event", "outcome"]
    search_fields = ["event", "actor_username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
