"""Case 36: every PHI-touching action writes exactly one audit event, with all its fields.

Table-driven over view, create, update, delete, export, print/PDF, FHIR export, 837P build,
login ok/failed, logout, role change, month close, audit-report view and denied access. Pass:
exactly one event each, with actor, tenant (practice), patient (where the action concerns one),
action class (C/R/U/D/E, from the registry in careledger/audit/events.py), object, outcome,
source IP and a UTC time.

Nothing in careledger is deleted (house rule): the "delete" of a clinical record is a void,
which the registry classes as an update (U), with the reason kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from careledger.accounts.models import ApiToken
from careledger.audit.events import EVENTS
from careledger.audit.models import AuditEvent
from careledger.billing.close import close_month
from careledger.careplans.models import CarePlanVersion
from careledger.patients.models import Patient
from careledger.timelog.models import TimeEntry
from tests.billing.builders import MONTH, NOW, complete_practice, rpm_patient
from tests.careplans.conftest import add_conditions, complete_content, publish_signed
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


@dataclass
class Scene:
    world: PracticeWorld
    other: PracticeWorld
    rpm: Patient
    entry: TimeEntry
    version: CarePlanVersion

    def page(self, role: str = "manager") -> Client:
        client = Client(REMOTE_ADDR=IP)
        client.force_login(self.world.user(role))
        return client

    def api(self, role: str = "manager") -> Client:
        key, key_hash = ApiToken.new_key()
        now = timezone.now()
        ApiToken.objects.create(
            user=self.world.user(role),
            key_hash=key_hash,
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR=IP)


@pytest.fixture
def scene(world: PracticeWorld, other_world: PracticeWorld) -> Scene:
    from careledger.careplans import services as careplans

    complete_practice(world)
    rpm = rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    conditions = list(add_conditions(world))
    started = careplans.start_plan(
        ctx=world.ctx("coordinator"), patient=world.patient, kind="comprehensive", now=NOW
    )
    plan = careplans.save_draft(
        ctx=world.ctx("coordinator"),
        plan=started,
        expected_revision=1,
        content=complete_content(conditions),
        now=NOW,
    )
    version = publish_signed(world, plan, NOW + timedelta(minutes=5))
    entry = TimeEntry.objects.filter(patient=rpm).first()
    assert entry is not None
    return Scene(world, other_world, rpm, entry, version)


def _login(s: Scene, password: str) -> Any:
    return Client(REMOTE_ADDR=IP).post(
        "/login/", {"username": s.world.user("manager").username, "password": password}
    )


def _logout(s: Scene) -> Any:
    return s.page().post("/logout/")


def _role_change(s: Scene) -> Any:
    member = s.world.members["biller"]
    return s.page("admin").post(
        f"/users/{member.pk}/", {"role": "auditor", "credential": "other", "rule_class": ""}
    )


def _amend(s: Scene) -> Any:
    return s.api().patch(
        f"/api/v1/time-entries/{s.entry.pk}",
        json.dumps({"summary": "Reviewed the readings again. Confirmed the plan.", "reason": "x"}),
        content_type="application/json",
    )


def _void(s: Scene) -> Any:
    return s.api().post(
        f"/api/v1/time-entries/{s.entry.pk}/void",
        json.dumps({"reason": "Logged on the wrong patient."}),
        content_type="application/json",
    )


def _create(s: Scene) -> Any:
    body = {
        "mrn": "N-36",
        "given_name": "Rosa",
        "family_name": "Quill",
        "birth_date": "1950-02-03",
        "sex": "female",
    }
    return s.api().post("/api/v1/patients", json.dumps(body), content_type="application/json")


# name: (event, action, patient of the scene ("world"/"rpm"/None), what to do)
ACTIONS: dict[str, tuple[str, str, str | None, Callable[[Scene], Any]]] = {
    "view": (
        "patient.viewed",
        "R",
        "world",
        lambda s: s.page().get(f"/patients/{s.world.patient.pk}/"),
    ),
    "create": ("patient.created", "C", "new", _create),
    "update": ("timeentry.amended", "U", "rpm", _amend),
    "delete (void)": ("timeentry.voided", "U", "rpm", _void),
    "export": (
        "export.csv",
        "E",
        None,
        lambda s: s.api().get("/api/v1/months/2026-04/billing.csv"),
    ),
    "print/PDF": (
        "careplan.pdf_viewed",
        "R",
        "world",
        lambda s: s.page().get(f"/care-plans/versions/{s.version.pk}/pdf/"),
    ),
    "FHIR export": (
        "careplan.fhir_exported",
        "R",
        "world",
        lambda s: s.page().get(f"/care-plans/versions/{s.version.pk}/fhir/"),
    ),
    "837P build": (
        "export.837p",
        "E",
        None,
        lambda s: s.api("biller").get("/api/v1/months/2026-04/claims.837"),
    ),
    "login ok": ("auth.login", "E", None, lambda s: _login(s, PASSWORD)),
    "login failed": ("auth.login_failed", "E", None, lambda s: _login(s, "wrong password")),
    "logout": ("auth.logout", "E", None, _logout),
    "role change": ("membership.role_changed", "U", None, _role_change),
    "month close": (
        "month.closed",
        "E",
        None,
        lambda s: s.api().post("/api/v1/months/2026-04/close"),
    ),
    "audit report view": ("audit.viewed", "R", None, lambda s: s.page("auditor").get("/audit/")),
    "denied access": (
        "patient.access_denied",
        "R",
        "other",
        lambda s: s.api().get(f"/api/v1/patients/{s.other.patient.pk}"),
    ),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_case_36_each_phi_action_writes_exactly_one_complete_event(scene: Scene, name: str) -> None:
    event_name, action, patient, act = ACTIONS[name]
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = act(scene)
    assert response.status_code < 500, response.content[:500]
    events = list(AuditEvent.objects.filter(id__gt=before, event=event_name))
    assert len(events) == 1, (name, [e.event for e in AuditEvent.objects.filter(id__gt=before)])
    event = events[0]
    # Action class from the one registry.
    assert event.action == EVENTS[event_name].action == action
    # Who. A refused sign-in has no authenticated actor: the name tried is in its details.
    if name == "login failed":
        assert event.details["username"] == scene.world.user("manager").username
    else:
        assert event.actor_id is not None and event.actor_username
    # Which tenant. A refused sign-in belongs to no practice: nobody was let in.
    if name != "login failed":
        assert event.practice_id == scene.world.practice.pk
    # Which patient.
    expected_patient = {
        "world": scene.world.patient.pk,
        "rpm": scene.rpm.pk,
        "other": scene.other.patient.pk,
        "new": Patient.objects.filter(mrn="N-36").values_list("pk", flat=True).first(),
        None: event.patient_id,
    }[patient]
    if name == "denied access":
        # Another practice's patient is never linked from this practice's log: the id asked
        # for is kept as given.
        assert event.patient_id is None
        assert event.details["requested_id"] == str(expected_patient)
    else:
        assert event.patient_id == expected_patient
    # What object, with what outcome.
    # Sessions and the audit report concern no one record; a denied request names what was
    # asked for in its details (the object is not the caller's to link to).
    no_object = ("login ok", "login failed", "logout", "audit report view", "denied access")
    assert event.object_type or name in no_object
    expected_outcome = {"login failed": "failure", "denied access": "denied"}.get(name, "success")
    assert event.outcome == expected_outcome
    # From where, and when (UTC).
    assert event.source_ip == IP
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert abs(event.occurred_at - timezone.now()) < timedelta(minutes=5) or name == "month close"
