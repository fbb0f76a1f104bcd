"""The care-plan pages: editor, conflict message, publishing, sign-off, copy, diff, worklist."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.careplans.models import CarePlan, CarePlanVersion, Sharing
from careledger.careplans.selectors import panel_context
from careledger.lib.localtime import local_today
from careledger.patients.models import Condition
from tests.careplans.conftest import NOW, publish_signed
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def _editor_post(plan: CarePlan, revision: int, **fields: str) -> dict[str, Any]:
    """Post the stored draft back as the editor would, with ``fields`` changed."""
    draft = plan.draft
    data: dict[str, Any] = {"revision": str(revision)}
    for key, element in draft["elements"].items():
        data[f"el-{key}-text"] = element["text"]
    for problem in draft["problems"]:
        data[f"problem-{problem['condition_id']}"] = "on"
    for n, goal in enumerate(draft["goals"]):
        for name in ("key", "what", "target", "unit"):
            data[f"goal-{n}-{name}"] = goal[name]
        for k, t in enumerate(goal["thresholds"]):
            for name in ("metric", "comparator", "warning", "critical", "unit"):
                data[f"goal-{n}-t{k}-{name}"] = str(t[name])
    for n, step in enumerate(draft["interventions"]):
        data[f"int-{n}-description"] = step["description"]
        data[f"int-{n}-responsible"] = step["responsible"]
    data.update(fields)
    return data


def test_the_plans_page_shows_state_and_actions(
    world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    body = login(world).get(reverse("careplan-patient", args=[world.patient.pk])).content.decode()
    assert "Comprehensive (CCM, APCM) plan" in body
    assert "Edit draft" in body and "Publish for signature" in body
    assert AuditEvent.objects.filter(event="careplan.viewed").count() == 1


def test_saving_the_editor_updates_the_draft(world: PracticeWorld, plan: CarePlan, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world)
    page = client.get(reverse("careplan-edit", args=[plan.pk])).content.decode()
    assert 'name="goal-0-t0-warning" value="135"' in page
    data = _editor_post(plan, plan.revision, **{"el-caregiver_assessment-text": "Daughter helps."})
    response = client.post(reverse("careplan-edit", args=[plan.pk]), data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.draft["elements"]["caregiver_assessment"]["text"] == "Daughter helps."
    assert plan.draft["goals"][0]["thresholds"][0]["warning"] == 135


def test_a_stale_editor_save_shows_the_conflict_and_keeps_the_typed_edits(
    world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world)
    stale = plan.revision
    client.post(reverse("careplan-edit", args=[plan.pk]), _editor_post(plan, stale))
    mine = _editor_post(plan, stale, **{"el-caregiver_assessment-text": "My careful note."})
    response = client.post(reverse("careplan-edit", args=[plan.pk]), mine)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Not saved: someone else changed this draft." in body
    assert "My careful note." in body  # the user's edit is shown back, not lost
    assert f'name="revision" value="{stale + 1}"' in body
    plan.refresh_from_db()
    assert plan.draft["elements"]["caregiver_assessment"]["text"] != "My careful note."


def test_an_impossible_threshold_is_shown_on_its_row(
    world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    data = _editor_post(plan, plan.revision, **{"goal-0-t0-warning": "1350"})
    response = login(world).post(reverse("careplan-edit", args=[plan.pk]), data)
    assert response.status_code == 422
    assert "is not a possible systolic blood pressure" in response.content.decode()


def test_publishing_an_incomplete_draft_lists_every_missing_element(
    world: PracticeWorld, conditions: list[Condition], login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "practitioner")
    client.post(
        reverse("careplan-start", args=[world.patient.pk]),
        {"kind": "comprehensive", "template": "hypertension"},
    )
    plan = CarePlan.objects.get()
    response = client.post(
        reverse("careplan-publish", args=[plan.pk]), {"revision": "1", "sign": "on"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    for label in (
        "Cognitive and functional assessment",
        "Environmental evaluation",
        "Caregiver assessment",
        "Community and social services ordered",
        "Coordination with outside practitioners and agencies",
    ):
        assert label in body
    assert CarePlanVersion.objects.count() == 0


def test_the_practitioner_publishes_and_signs_and_a_coordinator_cannot_sign(
    world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    coordinator = login(world, "coordinator")
    response = coordinator.post(
        reverse("careplan-publish", args=[plan.pk]), {"revision": str(plan.revision), "sign": "on"}
    )
    assert response.status_code == 403
    coordinator.post(reverse("careplan-publish", args=[plan.pk]), {"revision": str(plan.revision)})
    version = CarePlanVersion.objects.get()
    assert not version.signed
    assert coordinator.post(reverse("careplan-sign", args=[version.pk])).status_code == 403
    practitioner = login(world, "practitioner")
    assert practitioner.post(reverse("careplan-sign", args=[version.pk])).status_code == 302
    version.refresh_from_db()
    assert version.signed_by == world.user("practitioner")


def test_the_patient_copy_pdf_and_print_record(world: PracticeWorld, plan: CarePlan, login) -> None:  # type: ignore[no-untyped-def]
    world.practice.phone = "(312) 555-0100"
    world.practice.save()
    version = publish_signed(world, plan, NOW)
    client = login(world)
    copy = client.get(reverse("careplan-patient-copy", args=[version.pk])).content.decode()
    assert "Who to call, day or night" in copy and "(312) 555-0100" in copy
    assert "24 hours a day, 7 days a week" in copy
    assert "Home blood pressure" in copy
    assert "<script>" not in copy
    pdf = client.get(reverse("careplan-pdf", args=[version.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    today = local_today(world.practice, timezone.now()).isoformat()
    client.post(
        reverse("careplan-share", args=[version.pk]), {"channel": "print", "shared_on": today}
    )
    assert Sharing.objects.get().channel == "print"


def test_user_text_is_escaped(world: PracticeWorld, plan: CarePlan, login) -> None:  # type: ignore[no-untyped-def]
    data = _editor_post(plan, plan.revision, **{"el-caregiver_assessment-text": "<b>x</b>"})
    client = login(world)
    client.post(reverse("careplan-edit", args=[plan.pk]), data)
    version = publish_signed(world, plan, NOW)
    body = client.get(reverse("careplan-version", args=[version.pk])).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body and "<b>x</b>" not in body


def test_two_versions_compare_side_by_side(world: PracticeWorld, plan: CarePlan, login) -> None:  # type: ignore[no-untyped-def]
    publish_signed(world, plan, NOW)
    client = login(world, "practitioner")
    plan.refresh_from_db()
    data = _editor_post(plan, plan.revision, **{"goal-0-target": "below 130/80"})
    client.post(reverse("careplan-edit", args=[plan.pk]), data)
    publish_signed(world, plan, NOW, reason="Tighter target.")
    response = client.get(reverse("careplan-compare", args=[plan.pk]), {"left": 1, "right": 2})
    body = response.content.decode()
    assert "Tighter target." in body
    assert "below 135/85" in body and "below 130/80" in body
    changed = re.findall(r'<tr class="cp-changed">\s*<th scope="row">([^<]+)', body)
    assert [c.strip() for c in changed] == ["Measurable treatment goals"]
    assert AuditEvent.objects.filter(event="careplan.diff_viewed").count() == 1


def test_another_practices_plan_pages_are_not_found(
    world: PracticeWorld, other_world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    version = publish_signed(world, plan, NOW)
    client = login(other_world, "admin")
    urls = [
        reverse("careplan-patient", args=[world.patient.pk]),
        reverse("careplan-edit", args=[plan.pk]),
        reverse("careplan-compare", args=[plan.pk]),
        reverse("careplan-version", args=[version.pk]),
        reverse("careplan-patient-copy", args=[version.pk]),
        reverse("careplan-pdf", args=[version.pk]),
        reverse("careplan-fhir", args=[version.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("careplan-sign", args=[version.pk])).status_code == 404


def test_readers_cannot_edit(world: PracticeWorld, plan: CarePlan, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "auditor")
    assert client.get(reverse("careplan-patient", args=[world.patient.pk])).status_code == 200
    assert client.get(reverse("careplan-edit", args=[plan.pk])).status_code == 403
    response = client.post(
        reverse("careplan-publish", args=[plan.pk]), {"revision": str(plan.revision)}
    )
    assert response.status_code == 403


def test_the_worklist_page_and_the_patient_panel(
    world: PracticeWorld, plan: CarePlan, login
) -> None:  # type: ignore[no-untyped-def]
    publish_signed(world, plan, NOW)
    body = login(world, "manager").get(reverse("careplan-worklist")).content.decode()
    assert "Not shared with the patient" in body and "Samename, Mae" in body
    today = local_today(world.practice, timezone.now())
    panel = render_to_string("careplans/_patient_panel.html", panel_context(world.patient, today))
    assert "Not shared with the patient" in panel
    assert reverse("careplan-patient", args=[world.patient.pk]) in panel
