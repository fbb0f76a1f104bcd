"""Template context shared by every page: the practice and role the user acts as."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from careledger.accounts.access import active_memberships
from careledger.accounts.roles import Role

NAV_SECTIONS = {
    "audit-log": "audit",
    "user-list": "users",
    "user-invite": "users",
    "user-edit": "users",
    "user-break-glass": "users",
    "my-day": "my-day",
    "time-import": "time-import",
    "careplan-worklist": "care-plans",
    "dashboard": "dashboard",
    "pre-close-worklist": "worklist",
    "practice-fees": "worklist",
    "alert-queue": "alerts",
    "billing-months": "billing",
    "billing-month": "billing",
    "billing-evidence": "billing",
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Give the header what it shows: practice, role, permissions and the practice switcher."""
    common = {"session_idle_minutes": settings.SESSION_IDLE_MINUTES}
    ctx = getattr(request, "ctx", None)
    if ctx is None:
        return common
    match = request.resolver_match
    url_name = match.url_name if match is not None else ""
    return {
        **common,
        "nav_section": NAV_SECTIONS.get(url_name or "", "patients"),
        "current_practice": ctx.practice,
        "current_role": ctx.role,
        "current_role_label": Role(ctx.role).label,
        "may_view_audit": ctx.may("audit.view"),
        "may_manage_users": ctx.may("users.manage"),
        "may_edit_patients": ctx.may("patient.edit"),
        "may_edit_enrollments": ctx.may("enrollment.edit"),
        "may_log_time": ctx.may("time.log"),
        "may_import_time": ctx.may("time.import"),
        "may_view_billing": ctx.may("billing.view"),
        # Only users in several practices see the switcher.
        "switchable_memberships": [
            m for m in active_memberships(ctx.user) if m.practice_id != ctx.practice.pk
        ],
    }
