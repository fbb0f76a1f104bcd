"""``{% load records %}{% record_export_links patient %}``: the right-of-access downloads."""

from __future__ import annotations

from typing import Any

from django import template

from careledger.patients.models import Patient

register = template.Library()


@register.inclusion_tag("records/_export_links.html", takes_context=True)
def record_export_links(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    """Offer the downloads to roles that may export a patient's record."""
    ctx = getattr(context.get("request"), "ctx", None)
    return {
        "patient": patient,
        "may_export_record": ctx is not None and ctx.may("patient.record_export"),
    }
