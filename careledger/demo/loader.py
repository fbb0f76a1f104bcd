"""Write the demo through the same services as the app, so it leaves the same audit events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.accounts.services import add_member, create_practice
from careledger.audit.services import record_event
from careledger.careplans.models import AcuteEvent
from careledger.careplans.services import (
    publish_version,
    record_acute_event,
    record_sharing,
    save_draft,
    start_plan,
)
from careledger.demo.careplan_plan import (
    HOSPITAL,
    CarePlanSpec,
    plan_content,
    reviewed_content,
)
from careledger.demo.data import DEMO_PASSWORD, LAKESIDE, PRACTICES, RIVERSIDE, STAFF
from careledger.demo.device_plan import plan_deliveries, plan_devices, vendor_slug
from careledger.demo.facts_plan import SETUP_NOTE, FactsPlan, plan_facts
from careledger.demo.plan import DemoPlan, PatientSpec, first_demo_month
from careledger.demo.time_plan import BH_CARE_MANAGER, COORDINATOR, plan_entries
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Device, Via
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.devices.thresholds import Levels
from careledger.patients.models import Patient
from careledger.patients.services import (
    Consent,
    Order,
    add_condition,
    create_patient,
    enroll,
    record_visit,
)
from careledger.programs.services import (
    BhiElements,
    record_apcm_attestation,
    record_bhi_elements,
    record_complex_ccm,
    record_rating_scale,
    record_setup,
    start_cocm_episode,
)
from careledger.timelog.models import Source
from careledger.timelog.services import Contact, log_contact


class DemoConflict(Exception):
    """The database holds part of the demo, or a user with a demo login's name."""


@dataclass(frozen=True)
class DemoResult:
    practices: int
    users: int
    patients: int
    conditions: int
    visits: int
    enrollments: int
    time_entries: int = 0
    care_plans: int = 0
    care_plan_versions: int = 0
    devices: int = 0
    readings: int = 0
    alerts: int = 0
    setup_events: int = 0
    cocm_episodes: int = 0
    mdm_records: int = 0
    rating_scales: int = 0
    bhi_elements: int = 0
    apcm_attestations: int = 0


def demo_state() -> str:
    """Tell whether the demo is ``"absent"``, ``"loaded"`` or, refused, ``"partial"``."""
    found = Practice.objects.filter(slug__in=list(PRACTICES)).count()
    if found == 0:
        return "absent"
    return "loaded" if found == len(PRACTICES) else "partial"


def load_demo(
    *, plan: DemoPlan, now: datetime, on_patient: Callable[[], None] | None = None
) -> DemoResult:
    """Create the demo practices, logins and the planned patients in one transaction."""
    taken = sorted(
        User.objects.filter(username__in=[s.username for s in STAFF]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise DemoConflict(
            f"user {', '.join(taken)} already exists; load the demo into a fresh database"
        )
    counts = {
        "conditions": 0,
        "visits": 0,
        "enrollments": 0,
        "care_plans": 0,
        "care_plan_versions": 0,
    }
    with transaction.atomic():
        practices = {
            slug: create_practice(actor=None, data=data, now=now)
            for slug, data in PRACTICES.items()
        }
        members: dict[str, Membership] = {}
        for staff in STAFF:
            user = User(
                username=staff.username,
                first_name=staff.first_name,
                last_name=staff.last_name,
                email=f"{staff.username}@{staff.practice}.example.org",
            )
            # set_password skips AUTH_PASSWORD_VALIDATORS on purpose: "demo" is the documented
            # demo password (API.md, "The demo") and would fail every validator.
            user.set_password(DEMO_PASSWORD)
            user.save()
            members[staff.username] = add_member(
                actor=None,
                practice=practices[staff.practice],
                user=user,
                role=staff.role,
                credential=staff.credential,
                npi=staff.npi,
                bh_care_manager=staff.bh_care_manager,
                now=now,
            )
        teams = {
            RIVERSIDE: (members["coordinator"], members["practitioner"]),
            LAKESIDE: (members["coordinator2"], members["practitioner2"]),
        }
        for spec in plan.patients:
            coordinator, practitioner = teams[spec.practice]
            _load_patient(spec, coordinator, practitioner, now, counts)
            if on_patient is not None:
                on_patient()
        loggers = {(slug, COORDINATOR): coordinator for slug, (coordinator, _) in teams.items()}
        loggers.update(
            {
                (staff.practice, BH_CARE_MANAGER): members[staff.username]
                for staff in STAFF
                if staff.bh_care_manager
            }
        )
        counts["time_entries"] = _load_entries(plan, practices, loggers)
        counts.update(_load_devices(plan, practices, teams, now))
        counts.update(_load_facts(plan, practices, teams, loggers))
        result = DemoResult(
            practices=len(practices),
            users=len(members),
            patients=len(plan.patients),
            conditions=counts["conditions"],
            visits=counts["visits"],
            enrollments=counts["enrollments"],
            time_entries=counts["time_entries"],
            care_plans=counts["care_plans"],
            care_plan_versions=counts["care_plan_versions"],
            devices=counts["devices"],
            readings=counts["readings"],
            alerts=counts["alerts"],
            setup_events=counts["setup_events"],
            cocm_episodes=counts["cocm_episodes"],
            mdm_records=counts["mdm_records"],
            rating_scales=counts["rating_scales"],
            bhi_elements=counts["bhi_elements"],
            apcm_attestations=counts["apcm_attestations"],
        )
        record_event(
            "demo.loaded",
            actor=None,
            details={
                "seed": plan.seed,
                "today": plan.today.isoformat(),
                "patients": result.patients,
                "practices": sorted(practices),
            },
            now=now,
        )
    return result


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a moment of ``day`` in UTC that falls on the same local day in both demo zones."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _load_patient(
    spec: PatientSpec,
    coordinator: Membership,
    practitioner_member: Membership,
    now: datetime,
    counts: dict[str, int],
) -> None:
    # The coordinator enters the record and obtains consent; the practitioner bills and orders.
    ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
    practitioner = practitioner_member.user
    # The chart and its problem list date from the initiating visit, before any care plan.
    charted_at = _at(spec.charted_on, 15)
    patient = create_patient(
        ctx=ctx, data={**spec.patient_data(), "coordinator": coordinator.user}, now=charted_at
    )
    conditions: list[tuple[int, str]] = []
    for condition in spec.conditions:
        added = add_condition(
            ctx=ctx,
            patient=patient,
            icd10_code=condition.icd10_code,
            onset_on=condition.onset_on,
            now=charted_at,
        )
        conditions.append((added.pk, added.icd10_code))
        counts["conditions"] += 1
    for visit in spec.visits:
        record_visit(
            ctx=ctx,
            patient=patient,
            practitioner=practitioner,
            visited_on=visit.visited_on,
            kind=visit.kind,
            em_level=visit.em_level,
            now=now,
        )
        counts["visits"] += 1
    for item in spec.enrollments:
        consent = None
        if item.consent_on is not None:
            consent = Consent(
                consent_on=item.consent_on,
                method=item.consent_method,
                obtained_by=coordinator.user,
                told_cost_sharing=True,
                told_one_practitioner=True,
                told_right_to_stop=True,
                told_specialist_consultation=True,
            )
        order = None
        if item.ordered_on is not None:
            order = Order(
                ordered_on=item.ordered_on,
                ordering_practitioner=practitioner,
                indication=item.indication,
            )
        enroll(
            ctx=ctx,
            patient=patient,
            program=item.program,
            billing_practitioner=practitioner,
            started_on=item.started_on,
            consent=consent,
            order=order,
            now=now,
        )
        counts["enrollments"] += 1
    signer = PracticeContext(user=practitioner, membership=practitioner_member, source_ip=None)
    for plan_spec in spec.care_plans:
        _load_care_plan(plan_spec, patient, conditions, ctx, signer)
        counts["care_plans"] += 1
        counts["care_plan_versions"] += len(plan_spec.versions)


def _load_care_plan(
    spec: CarePlanSpec,
    patient: Patient,
    conditions: list[tuple[int, str]],
    drafter: PracticeContext,
    signer: PracticeContext,
) -> None:
    """Draft (coordinator), publish and sign (practitioner), share (coordinator), in order."""
    first = spec.versions[0]
    plan = start_plan(
        ctx=drafter,
        patient=patient,
        kind=spec.kind,
        template=spec.template,
        now=_at(first.drafted_on, 15),
    )
    content = plan_content(
        kind=spec.kind, template=spec.template, conditions=conditions, index=spec.variant
    )
    for number, version in enumerate(spec.versions, start=1):
        draft = content if number == 1 else reviewed_content(content, version.published_on)
        plan = save_draft(
            ctx=drafter,
            plan=plan,
            expected_revision=plan.revision,
            content=draft,
            now=_at(version.drafted_on, 15, 20),
        )
        published = publish_version(
            ctx=signer,
            plan=plan,
            expected_revision=plan.revision,
            revision_reason=version.reason,
            sign=True,
            now=_at(version.published_on, 16),
        )
        if version.shared_on is not None:
            record_sharing(
                ctx=drafter,
                version=published,
                shared_on=version.shared_on,
                channel=version.channel,
                recipient="Patient",
                now=_at(version.shared_on, 16, 30),
            )
    if spec.hospital_stay is not None:
        stay = spec.hospital_stay
        record_acute_event(
            ctx=drafter,
            patient=patient,
            kind=AcuteEvent.Kind.HOSPITALIZATION,
            occurred_on=stay.admitted_on,
            discharged_on=stay.discharged_on,
            facility=HOSPITAL,
            note="Admitted for shortness of breath; discharged home on new medicines.",
            now=_at(stay.discharged_on, 16),
        )


def _load_entries(
    plan: DemoPlan,
    practices: dict[str, Practice],
    loggers: dict[tuple[str, str], Membership],
) -> int:
    """Log the planned contacts, each posted three minutes after it ended (so none is late)."""
    timezones = {slug: practice.timezone for slug, practice in practices.items()}
    patients = {
        (p.practice.slug, p.mrn): p
        for p in Patient.objects.filter(practice__in=practices.values()).select_related("practice")
    }
    count = 0
    for item in plan_entries(plan, timezones):
        logger = loggers[(item.practice, item.staff)]
        ctx = PracticeContext(user=logger.user, membership=logger, source_ip=None)
        started_at = item.started_at.astimezone(UTC)
        ended_at = started_at + timedelta(minutes=item.minutes)
        contact = Contact(
            program=item.program,
            kind=item.kind,
            outcome=item.outcome,
            started_at=started_at,
            ended_at=ended_at,
            summary=item.summary,
            source=Source.MANUAL,
        )
        log_contact(
            ctx=ctx,
            patient=patients[(item.practice, item.mrn)],
            contact=contact,
            now=ended_at + timedelta(minutes=3),
        )
        count += 1
    return count


VENDOR_NAME = "Prairie Cellular Health (demo)"


def _load_devices(
    plan: DemoPlan,
    practices: dict[str, Practice],
    teams: dict[str, tuple[Membership, Membership]],
    now: datetime,
) -> dict[str, int]:
    """Register each practice's vendor, hand out the devices, and receive their readings.

    Each delivery goes through the same ingestion as the vendor webhook, received a few minutes
    after its readings were taken (``now=`` the moment it arrived), so alerts open on time.
    """
    devices = plan_devices(plan)
    first_assigned = min((d.assigned_on for d in devices), default=plan.today)
    vendors = {
        slug: create_vendor(
            practice=practice,
            slug=vendor_slug(slug),
            name=VENDOR_NAME,
            # A demo secret derived from the seed, like the demo password: same seed, same data.
            secret=hashlib.sha256(f"careledger-demo-{plan.seed}-{slug}".encode()).hexdigest(),
            now=_at(first_assigned - timedelta(days=1), 14),
        )
        for slug, practice in practices.items()
    }
    patients = dict(
        Patient.objects.filter(practice__in=practices.values()).values_list("mrn", "pk")
    )
    by_pk = Patient.objects.in_bulk(list(patients.values()))
    for device in devices:
        coordinator = teams[device.practice][0]
        ctx = PracticeContext(user=coordinator.user, membership=coordinator, source_ip=None)
        assign_device(
            ctx=ctx,
            patient=by_pk[patients[device.mrn]],
            assignment=Assignment(
                program="RPM",
                type=device.type,
                vendor=vendor_slug(device.practice),
                serial=device.serial,
                assigned_on=device.assigned_on,
                model_name=device.model_name,
            ),
            now=_at(device.assigned_on, 15, 30),
        )
    timezones = {slug: practice.timezone for slug, practice in practices.items()}
    readings = alerts = 0
    levels: dict[int, Levels] = {}  # every care plan is in place before the first reading
    for delivery in plan_deliveries(plan, devices, timezones, now):
        result = ingest_readings(
            practice=practices[delivery.practice],
            items=[r.item() for r in delivery.readings],
            via=Via.WEBHOOK,
            vendor=vendors[delivery.practice],
            now=delivery.received_at,
            source_name="careledger demo",
            levels_cache=levels,
        )
        if result.errors:
            raise RuntimeError(f"the demo planned readings the service refuses: {result.errors}")
        readings += result.stored
        alerts += result.alerts
    return {"devices": len(devices), "readings": readings, "alerts": alerts}


def _load_facts(
    plan: DemoPlan,
    practices: dict[str, Practice],
    teams: dict[str, tuple[Membership, Membership]],
    loggers: dict[tuple[str, str], Membership],
) -> dict[str, int]:
    """Record the planned program facts (issue 9) through the programs services."""
    devices = plan_devices(plan)
    facts: FactsPlan = plan_facts(plan, devices, first_demo_month(plan.today))
    patients = {
        (p.practice.slug, p.mrn): p
        for p in Patient.objects.filter(practice__in=practices.values()).select_related("practice")
    }

    def as_member(member: Membership) -> PracticeContext:
        return PracticeContext(user=member.user, membership=member, source_ip=None)

    coordinators = {slug: as_member(team[0]) for slug, team in teams.items()}
    practitioners = {slug: as_member(team[1]) for slug, team in teams.items()}
    serials = dict(
        Device.objects.filter(patient__practice__in=practices.values()).values_list("serial", "pk")
    )
    for setup in facts.setups:
        # The coordinator hands the device over and teaches its use the same afternoon.
        record_setup(
            ctx=coordinators[setup.practice],
            patient=patients[(setup.practice, setup.mrn)],
            program="RPM",
            performed_on=setup.performed_on,
            device=serials[setup.serial],
            note=SETUP_NOTE,
            now=_at(setup.performed_on, 15, 45),
        )
    for attestation in facts.attestations:
        record_apcm_attestation(
            ctx=practitioners[attestation.practice],
            effective_on=attestation.effective_on,
            access_24_7=True,
            continuity=True,
            responsible_for_primary_care=True,
            now=_at(attestation.effective_on, 16),
        )
    for record in facts.mdm:
        record_complex_ccm(
            ctx=practitioners[record.practice],
            patient=patients[(record.practice, record.mrn)],
            month_start_on=record.month_start_on,
            mdm=record.mdm,
            care_plan_revised=True,
            now=_at(record.recorded_on, 16, 15),
        )
    for episode in facts.episodes:
        start_cocm_episode(
            ctx=practitioners[episode.practice],
            patient=patients[(episode.practice, episode.mrn)],
            started_on=episode.started_on,
            psychiatric_consultant=facts.consultant,
            psychiatric_consultant_npi=facts.consultant_npi,
            now=_at(episode.started_on, 15),
        )
    for scale in facts.scales:
        # CoCM patients' scales are given by the behavioral-health care manager.
        writer = loggers.get((scale.practice, BH_CARE_MANAGER))
        cocm = any(e.mrn == scale.mrn for e in facts.episodes)
        record_rating_scale(
            ctx=as_member(writer) if cocm and writer else coordinators[scale.practice],
            patient=patients[(scale.practice, scale.mrn)],
            instrument=scale.instrument,
            administered_on=scale.administered_on,
            score=scale.score,
            now=_at(scale.administered_on, 16, 45),
        )
    for item in facts.elements:
        record_bhi_elements(
            ctx=coordinators[item.practice],
            patient=patients[(item.practice, item.mrn)],
            month_start_on=item.month_start_on,
            elements=BhiElements(
                validated_rating_scale=True,
                bh_care_plan=True,
                treatment_coordination=True,
                continuity=True,
            ),
            now=_at(item.recorded_on, 17),
        )
    return {
        "setup_events": len(facts.setups),
        "cocm_episodes": len(facts.episodes),
        "mdm_records": len(facts.mdm),
        "rating_scales": len(facts.scales),
        "bhi_elements": len(facts.elements),
        "apcm_attestations": len(facts.attestations),
    }
