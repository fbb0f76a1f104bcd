"""``{% load programs %}{% billing_facts_panel patient %}``: the billing-facts panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from careledger.lib.localtime import local_today
from careledger.patients.models import Patient
from careledger.programs.views import panel_forms

register = template.Library()


@register.inclusion_tag("programs/_facts_panel.html", takes_context=True)
def billing_facts_panel(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    """Render the panel for ``patient`` as of now in the practice's zone, forms by permission."""
    request = context.get("request")
    ctx = getattr(request, "ctx", None)
    if ctx is None:
        return {"facts_panel": None}
    today = local_today(patient.practice, timezone.now())
    return {
        **panel_forms(ctx, patient, today),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
