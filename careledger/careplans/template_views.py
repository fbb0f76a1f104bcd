"""The practice's care-plan templates: the list, a template's versions, and the editor.

Everyone in the practice may read its templates (``careplan.view``); its clinical leads edit
them (``careplan.templates``). The editor reuses the draft editor's rows (``forms``) and form
pieces (``_editor_goals.html`` and its siblings), without dates, people or not-applicable.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import ctx_of, requires
from careledger.careplans import practice_templates as templates
from careledger.careplans.access import template_version_for
from careledger.careplans.content import PROBLEM_LIST, diff, element_lines
from careledger.careplans.forms import (
    METRIC_CHOICES,
    UNIT_CHOICES,
    Editor,
    editor_from_draft,
    read_editor,
)
from careledger.careplans.plan_templates import PlanTemplate
from careledger.careplans.selectors import content_of
from careledger.careplans.views import _errors_of, _int


def _template_or_404(key: str) -> PlanTemplate:
    try:
        return templates.shipped(key)
    except ValidationError:
        raise Http404("No such template.") from None


@requires("careplan.view")
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """List the templates: shipped or edited by the practice, and who last saved each."""
    ctx = ctx_of(request)
    context = {
        "rows": templates.template_rows(ctx.practice),
        "may_edit": ctx.may(templates.PERMISSION),
    }
    return render(request, "careplans/templates.html", context)


@requires("careplan.view")
@require_GET
def template_history(request: HttpRequest, key: str) -> HttpResponse:
    """Show every saved version of the practice's template, newest first."""
    ctx = ctx_of(request)
    template = _template_or_404(key)
    context = {
        "template": template,
        "versions": templates.history(ctx.practice, key),
        "may_edit": ctx.may(templates.PERMISSION),
    }
    return render(request, "careplans/template_history.html", context)


def _reading(content: dict[str, Any]) -> list[Any]:
    return [
        (el, lines)
        for el, lines in element_lines(content_of(templates.as_draft(content)))
        if el.key != PROBLEM_LIST
    ]


@requires("careplan.view")
@require_GET
def template_version(request: HttpRequest, version_id: int) -> HttpResponse:
    """Show one saved version of a template, and how it differs from the shipped one."""
    ctx = ctx_of(request)
    version = template_version_for(ctx, version_id)
    template = _template_or_404(version.template_key)
    shipped = templates.normalized_shipped(template)
    changes = [
        row
        for row in diff(
            content_of(templates.as_draft(shipped)), content_of(templates.as_draft(version.content))
        )
        if row.changed
    ]
    latest = templates.latest_version(ctx.practice.pk, version.template_key)
    context = {
        "template": template,
        "version": version,
        "lines": _reading(version.content),
        "prefixes": version.content.get("icd10_prefixes") or [],
        "shipped_prefixes": shipped["icd10_prefixes"],
        "changes": changes,
        "is_latest": latest is not None and latest.pk == version.pk,
        "may_edit": ctx.may(templates.PERMISSION),
    }
    return render(request, "careplans/template_version.html", context)


def _editor_page(
    request: HttpRequest,
    template: PlanTemplate,
    editor: Editor,
    *,
    based_on: int,
    prefixes: str,
    reason: str = "",
    errors: dict[str, list[str]] | None = None,
    conflict: templates.TemplateConflict | None = None,
    source: Any = None,
    status: int = 200,
) -> HttpResponse:
    ctx = ctx_of(request)
    errors = dict(errors or {})
    prefix_errors = [
        m for k in list(errors) if k.startswith("icd10_prefixes") for m in errors.pop(k)
    ]
    reason_errors = errors.pop("reason", [])
    editor.attach(errors)
    latest = templates.latest_version(ctx.practice.pk, template.key)
    context = {
        "template": template,
        "editor": editor,
        "based_on": based_on,
        "latest": latest,
        "source": source,
        "prefixes": prefixes,
        "prefix_errors": prefix_errors,
        "reason": reason,
        "reason_errors": reason_errors,
        "conflict": conflict,
        "saved_lines": _reading(conflict.latest.content) if conflict and conflict.latest else [],
        "metrics": METRIC_CHOICES,
        "units": UNIT_CHOICES,
        "for_template": True,
    }
    return render(request, "careplans/template_edit.html", context, status=status)


@requires("careplan.templates")
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, key: str) -> HttpResponse:
    """Edit the practice's template; a save stores the next version with the reason given."""
    ctx = ctx_of(request)
    template = _template_or_404(key)
    if request.method == "GET":
        latest = templates.latest_version(ctx.practice.pk, key)
        source = None
        if request.GET.get("from"):
            source = template_version_for(ctx, _int(request.GET.get("from")) or 0)
            if source.template_key != key:
                raise Http404("No such template version.")
            content = source.content
        elif latest is not None:
            content = latest.content
        else:
            content = templates.normalized_shipped(template)
        return _editor_page(
            request,
            template,
            editor_from_draft(templates.as_draft(content), []),
            based_on=latest.number if latest else 0,
            prefixes=", ".join(content.get("icd10_prefixes") or []),
            source=source,
        )
    draft, editor = read_editor(request.POST, [])
    prefixes = request.POST.get("icd10_prefixes", "")
    reason = request.POST.get("reason", "")
    based_on = _int(request.POST.get("based_on")) or 0
    content = {
        "icd10_prefixes": prefixes,
        "elements": draft["elements"],
        "goals": draft["goals"],
        "interventions": draft["interventions"],
    }
    try:
        version = templates.save_template(
            ctx=ctx,
            key=key,
            content=content,
            reason=reason,
            expected_number=based_on,
            now=timezone.now(),
        )
    except ValidationError as exc:
        return _editor_page(
            request,
            template,
            editor,
            based_on=based_on,
            prefixes=prefixes,
            reason=reason,
            errors=exc.message_dict,
            status=422,
        )
    except templates.TemplateConflict as conflict:
        # Nothing is lost: the other save stands, these edits come back as typed, now based on
        # the latest version, for the user to compare and save again.
        return _editor_page(
            request,
            template,
            editor,
            based_on=conflict.current_number,
            prefixes=prefixes,
            reason=reason,
            conflict=conflict,
            status=409,
        )
    messages.success(
        request,
        f"{template.label} template saved as version {version.number}. "
        "Plans started from it now use this version.",
    )
    return redirect("careplan-templates")


@requires("careplan.templates")
@require_POST
def template_reset(request: HttpRequest, key: str) -> HttpResponse:
    """Store a new version of the practice's template equal to the shipped one."""
    ctx = ctx_of(request)
    template = _template_or_404(key)
    try:
        version = templates.reset_template(
            ctx=ctx,
            key=key,
            reason=request.POST.get("reason", ""),
            expected_number=_int(request.POST.get("based_on")),
            now=timezone.now(),
        )
    except templates.TemplateConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as exc:
        for message in _errors_of(exc):
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"{template.label} template reset to the shipped one (version {version.number}).",
        )
    return redirect("careplan-templates")
