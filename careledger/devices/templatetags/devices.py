"""``{% load devices %}{% devices_panel patient %}``: the device panel without changing the view."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from careledger.devices.selectors import panel_context
from careledger.lib.localtime import local_today
from careledger.patients.models import Patient

register = template.Library()


@register.inclusion_tag("devices/_patient_panel.html", takes_context=True)
def devices_panel(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    """Render the panel for ``patient`` as of now in the practice's zone."""
    today = local_today(patient.practice, timezone.now())
    return {"devices_panel": panel_context(patient, today), "request": context.get("request")}
