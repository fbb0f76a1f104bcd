"""Load a care plan, a version or a template version for a caller: another practice's records
are never found."""

from __future__ import annotations

from django.http import Http404

from careledger.accounts.access import PracticeContext
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.careplans.models import CarePlan, CarePlanVersion, TemplateVersion


def _denied(ctx: PracticeContext, what: str, requested: int) -> Http404:
    record_event(
        "patient.access_denied",
        actor=ctx.user,
        practice=ctx.practice,
        outcome=AuditEvent.Outcome.DENIED,
        source_ip=ctx.source_ip,
        details={"requested_id": str(requested)[:20], "object": what},
    )
    return Http404("Not found.")


def plan_for(ctx: PracticeContext, plan_id: int) -> CarePlan:
    """Return the caller's care plan, or raise Http404 (auditing the attempt)."""
    plan = (
        CarePlan.objects.select_related("patient", "patient__practice", "draft_saved_by")
        .filter(pk=plan_id, patient__practice=ctx.practice)
        .first()
    )
    if plan is None:
        raise _denied(ctx, "careplan", plan_id)
    return plan


def version_for(ctx: PracticeContext, version_id: int) -> CarePlanVersion:
    """Return the caller's care-plan version, or raise Http404 (auditing the attempt)."""
    version = (
        CarePlanVersion.objects.select_related(
            "plan", "plan__patient", "plan__patient__practice", "author", "signed_by"
        )
        .filter(pk=version_id, plan__patient__practice=ctx.practice)
        .first()
    )
    if version is None:
        raise _denied(ctx, "careplan_version", version_id)
    return version


def template_version_for(ctx: PracticeContext, version_id: int) -> TemplateVersion:
    """Return a version of the caller's practice's template, or raise Http404 (audited)."""
    version = (
        TemplateVersion.objects.select_related("saved_by")
        .filter(pk=version_id, practice=ctx.practice)
        .first()
    )
    if version is None:
        raise _denied(ctx, "careplan_template_version", version_id)
    return version
