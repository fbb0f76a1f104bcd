"""The admin shows allauth's MFA authenticators, user sessions and e-mail addresses read-only.

allauth registers them with add, change and delete; here those would remove a person's MFA or
end a session with no audit event. Removing MFA and ending sessions go through the audited
services instead (careledger.accounts.mfa, careledger.accounts.sessions, the Users page).
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.http import HttpRequest

# allauth's own registrations (with add, change and delete) are replaced below.
for model in (Authenticator, UserSession, EmailAddress):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """List and open rows; never add, change or delete them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    exclude = ["data"]  # the TOTP secret and recovery-code seed are never shown


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "last_seen_at", "ip"]
    exclude = ["session_key", "data"]


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdmin):
    list_display = ["email", "user", "verified", "primary"]
