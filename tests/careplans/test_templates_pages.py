"""The template pages: the list, the editor, versions, reset, roles and other practices."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.careplans import practice_templates as templates
from careledger.careplans.models import CarePlan, TemplateVersion
from careledger.careplans.plan_templates import TEMPLATE_BY_KEY, shipped_content
from careledger.patients.models import Condition
from tests.careplans.conftest import NOW
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

EDIT = reverse("careplan-template-edit", args=["hypertension"])
RESET = reverse("careplan-template-reset", args=["hypertension"])
LIST = reverse("careplan-templates")


def _editor_post(content: dict[str, Any], based_on: int, **fields: str) -> dict[str, Any]:
    """Post template content as the editor would, with ``fields`` changed."""
    data: dict[str, Any] = {
        "based_on": str(based_on),
        "icd10_prefixes": ", ".join(content["icd10_prefixes"]),
        "reason": "Practice protocol",
    }
    for key, text in content["elements"].items():
        data[f"el-{key}-text"] = text
    for n, goal in enumerate(content["goals"]):
        for name in ("key", "what", "target", "unit"):
            data[f"goal-{n}-{name}"] = goal[name]
        for k, t in enumerate(goal["thresholds"]):
            for name in ("metric", "comparator", "warning", "critical", "unit"):
                data[f"goal-{n}-t{k}-{name}"] = str(t[name])
    for n, step in enumerate(content["interventions"]):
        data[f"int-{n}-description"] = step["description"]
        data[f"int-{n}-responsible"] = step["responsible"]
    data.update(fields)
    return data


def _shipped() -> dict[str, Any]:
    return shipped_content(TEMPLATE_BY_KEY["hypertension"])


def test_the_editor_shows_the_shipped_template_in_the_draft_editors_form_pieces(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    page = login(world, "manager").get(EDIT).content.decode()
    assert 'name="goal-0-t0-warning" value="135"' in page
    assert 'name="goal-1-t0-metric"' in page  # a blank threshold row to add one
    assert 'name="icd10_prefixes" value="I10, I11, I12, I13, I15, I16"' in page
    assert 'name="based_on" value="0"' in page
    for field in ("goal-0-due_on", "int-0-user", "el-expected_outcome-na"):
        assert f'name="{field}"' not in page  # dates, people and not-applicable: the plan's
    assert "The shipped template is in use." in page


def test_saving_the_editor_stores_a_version_and_the_start_button_uses_it(
    world: PracticeWorld, conditions: list[Condition], login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "practitioner")
    data = _editor_post(
        _shipped(), 0, **{"goal-0-t0-warning": "130", "reason": "Cardiology protocol"}
    )
    response = client.post(EDIT, data)
    assert response.status_code == 302
    version = TemplateVersion.objects.get()
    assert (version.number, version.reason) == (1, "Cardiology protocol")
    assert version.saved_by == world.user("practitioner")
    assert version.content["goals"][0]["thresholds"][0]["warning"] == 130
    assert AuditEvent.objects.filter(event="careplan.template_saved").count() == 1

    listing = client.get(LIST).content.decode()
    assert 'data-template="hypertension" data-state="edited"' in listing
    assert 'data-template="copd" data-state="shipped"' in listing
    assert "Cardiology protocol" in listing
    saver = world.user("practitioner")
    assert (saver.get_full_name() or saver.get_username()) in listing

    client.post(
        reverse("careplan-start", args=[world.patient.pk]),
        {"kind": "comprehensive", "template": "hypertension"},
    )
    plan = CarePlan.objects.get(patient=world.patient)
    assert plan.draft["goals"][0]["thresholds"][0]["warning"] == 130


def test_an_impossible_threshold_comes_back_on_its_row_and_nothing_is_stored(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    response = login(world, "manager").post(
        EDIT, _editor_post(_shipped(), 0, **{"goal-0-t0-warning": "900"})
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Warning: 900 mm[Hg] is not a possible systolic blood pressure" in body
    assert 'name="goal-0-t0-warning" value="900"' in body  # the typed value is kept
    assert not TemplateVersion.objects.exists()


def test_a_missing_reason_and_a_bad_code_are_shown_at_their_fields(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    response = login(world, "manager").post(
        EDIT, _editor_post(_shipped(), 0, reason="", icd10_prefixes="I10, high blood pressure")
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Say why the template changes." in body
    assert "HIGH is not an ICD-10-CM code" in body
    assert not TemplateVersion.objects.exists()


def test_a_stale_editor_save_is_refused_and_keeps_the_typed_edits(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    templates.save_template(
        ctx=world.ctx("admin"), key="hypertension", content=_shipped(), reason="Adopted", now=NOW
    )
    response = login(world, "manager").post(
        EDIT, _editor_post(_shipped(), 0, **{"goal-0-target": "below 130/80"})
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Not saved: someone else changed this template." in body
    assert 'value="below 130/80"' in body
    assert 'name="based_on" value="1"' in body
    assert TemplateVersion.objects.count() == 1


@pytest.mark.parametrize("role", ["coordinator", "biller", "auditor"])
def test_coordinators_billers_and_auditors_cannot_edit_or_reset(
    world: PracticeWorld, role: str, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, _editor_post(_shipped(), 0)).status_code == 403
    assert client.post(RESET, {"based_on": "0"}).status_code == 403
    assert not TemplateVersion.objects.exists()
    listing = client.get(LIST)
    assert listing.status_code == 200  # reading the templates is open to the practice
    assert EDIT not in listing.content.decode()


@pytest.mark.parametrize("role", ["practitioner", "manager", "admin"])
def test_clinical_leads_open_the_editor(world: PracticeWorld, role: str, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    assert client.get(EDIT).status_code == 200
    assert EDIT in client.get(LIST).content.decode()


def test_another_practices_template_version_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    theirs = templates.save_template(
        ctx=other_world.ctx("manager"),
        key="hypertension",
        content=_shipped(),
        reason="Theirs",
        now=NOW,
    )
    client = login(world, "manager")
    url = reverse("careplan-template-version", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.get(f"{EDIT}?from={theirs.pk}").status_code == 404
    denied = AuditEvent.objects.filter(event="patient.access_denied", practice=world.practice)
    assert denied.count() == 2
    # Their edit is not ours: our list still shows the shipped template, never edited.
    listing = client.get(LIST).content.decode()
    assert 'data-template="hypertension" data-state="shipped"' in listing
    assert "Theirs" not in listing
    assert client.get(reverse("careplan-template-edit", args=["asthma"])).status_code == 404


def test_a_version_page_shows_the_changes_from_the_shipped_template(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    content = _shipped()
    content["goals"][0]["thresholds"][0]["warning"] = 130
    version = templates.save_template(
        ctx=world.ctx("manager"), key="hypertension", content=content, reason="Strict", now=NOW
    )
    client = login(world, "auditor")
    body = client.get(reverse("careplan-template-version", args=[version.pk])).content.decode()
    assert "Changes from the shipped template" in body
    assert "above 135 mmHg" in body and "above 130 mmHg" in body
    history = client.get(reverse("careplan-template-history", args=["hypertension"]))
    assert 'data-version="1"' in history.content.decode()


def test_reset_from_the_list_stores_the_shipped_template_as_a_new_version(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "manager")
    client.post(EDIT, _editor_post(_shipped(), 0, **{"goal-0-t0-warning": "130"}))
    assert "Reset to shipped" in client.get(LIST).content.decode()

    response = client.post(RESET, {"based_on": "1", "reason": "Back to the standard"})

    assert response.status_code == 302
    versions = list(TemplateVersion.objects.order_by("number"))
    assert [(v.number, v.action) for v in versions] == [(1, "edited"), (2, "reset")]
    assert versions[1].content == _shipped()
    assert versions[1].reason == "Back to the standard"
    assert AuditEvent.objects.filter(event="careplan.template_reset").count() == 1
    listing = client.get(LIST).content.decode()
    assert 'data-template="hypertension" data-state="shipped"' in listing
    assert "reset to shipped" in listing
