"""The patient's copy of a version: plain words, large type, goals and who to call (CCM-9)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from careledger.careplans.content import (
    ELEMENTS,
    METRICS,
    NARRATIVE_KEYS,
    threshold_words,
)
from careledger.careplans.models import CarePlanVersion
from careledger.careplans.selectors import content_of


@dataclass(frozen=True)
class PlainGoal:
    what: str
    target: str
    due_on: Any
    alerts: tuple[str, ...]


def patient_copy_context(version: CarePlanVersion) -> dict[str, Any]:
    """Build what the printable page and the PDF show, in the patient's words."""
    plan = version.plan
    patient = plan.patient
    practice = patient.practice
    content = content_of(version.content)
    coordinator = patient.coordinator
    goals = [
        PlainGoal(
            what=g.what,
            target=f"{g.target} {UNIT_WORDS_PLAIN.get(g.unit, g.unit)}".strip(),
            due_on=g.due_on,
            alerts=tuple(f"{METRICS[t.metric].label}: {threshold_words(t)}" for t in g.thresholds),
        )
        for g in content.goals
    ]
    sections = []
    for definition in ELEMENTS:
        if definition.key not in NARRATIVE_KEYS:
            continue
        element = content.element(definition.key)
        if element.not_applicable or not element.text:
            continue
        sections.append((definition.plain_label, element.text))
    signer = version.signed_by
    return {
        "version": version,
        "patient": patient,
        "practice": practice,
        "coordinator_name": (coordinator.get_full_name() or coordinator.get_username())
        if coordinator
        else "",
        "problems": content.problems,
        "goals": goals,
        "interventions": content.interventions,
        "sections": sections,
        "signer_name": (signer.get_full_name() or signer.get_username()) if signer else "",
        "signer_credential": version.signed_by_credential,
    }


UNIT_WORDS_PLAIN = {
    "mm[Hg]": "mmHg",
    "[lb_av]": "lb",
    "/min": "beats a minute",
    "L/d": "liters a day",
    "mg/d": "mg a day",
}


def render_pdf(version: CarePlanVersion) -> bytes:
    """Render the patient's copy as a PDF with WeasyPrint (no network, no static files)."""
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDFs need it

    html = render_to_string("careplans/patient_copy_pdf.html", patient_copy_context(version))
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
