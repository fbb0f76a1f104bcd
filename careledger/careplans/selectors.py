"""Read care plans: the review clock, the billing fact, the worklist and the patient panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet

from careledger.accounts.models import Practice
from careledger.careplans.content import (
    PlanContent,
    goal_targets_changed,
    parse_content,
)
from careledger.careplans.models import (
    AcuteEvent,
    CarePlan,
    CarePlanVersion,
    DraftRevision,
    Kind,
    MonitoringThreshold,
    Sharing,
)
from careledger.careplans.review import (
    ChangeFacts,
    ReviewStatus,
    State,
    VersionFacts,
    review_status,
)
from careledger.patients.models import Condition, Enrollment, Patient, Program
from careledger.patients.selectors import active_enrollments

# CCM-8 and APCM-2 need a comprehensive plan; PCM-1 a disease-specific one.
KIND_FOR_PROGRAM: dict[str, str] = {
    Program.CCM: Kind.COMPREHENSIVE,
    Program.APCM: Kind.COMPREHENSIVE,
    Program.PCM: Kind.DISEASE_SPECIFIC,
}


def end_of_local_day(practice: Practice, on: date) -> datetime:
    """Return the first instant after the practice's local day ``on``."""
    return datetime.combine(on + timedelta(days=1), time.min, tzinfo=ZoneInfo(practice.timezone))


def content_of(raw: dict[str, Any]) -> PlanContent:
    """Read stored content (already validated when it was saved)."""
    content, _errors = parse_content(raw)
    return content


def plans_of(patient: Patient) -> QuerySet[CarePlan]:
    return CarePlan.objects.filter(patient=patient).select_related("draft_saved_by")


def plan_of(patient: Patient, kind: str) -> CarePlan | None:
    return plans_of(patient).filter(kind=kind).first()


def versions_of(plan: CarePlan) -> QuerySet[CarePlanVersion]:
    return (
        plan.versions.select_related("author", "signed_by")
        .prefetch_related(
            Prefetch("sharings", queryset=Sharing.objects.select_related("shared_by"))
        )
        .order_by("-number")
    )


def latest_version(plan: CarePlan, *, signed: bool = False) -> CarePlanVersion | None:
    qs = versions_of(plan)
    if signed:
        qs = qs.filter(signed_at__isnull=False)
    return qs.first()


def sharings_of(plan: CarePlan) -> QuerySet[Sharing]:
    return (
        Sharing.objects.filter(version__plan=plan)
        .select_related("version", "shared_by")
        .order_by("-shared_on", "-id")
    )


def _draft_as_of(plan: CarePlan, cutoff: datetime) -> tuple[int, dict[str, Any]] | None:
    if plan.draft_saved_at < cutoff:
        return plan.revision, plan.draft
    found = (
        DraftRevision.objects.filter(plan=plan, saved_at__lt=cutoff)
        .order_by("-revision")
        .values_list("revision", "content")
        .first()
    )
    return (found[0], found[1]) if found else None


def review_of(plan: CarePlan, on: date) -> ReviewStatus:
    """Decide where ``plan`` stands at the end of the practice's local day ``on``."""
    statuses = review_statuses(practice=plan.patient.practice, patient_ids=[plan.patient_id], on=on)
    return statuses[plan.pk][1]


def care_plan_fact(patient: Patient, program: str, on: date) -> bool:
    """Tell whether a current plan of the kind ``program`` needs, shared with the patient,
    existed at the end of the local day ``on`` (the engine's care-plan fact for a month).

    Comprehensive for CCM and APCM, disease-specific for PCM; other programs have no care-plan
    rule and are refused.
    """
    if program not in KIND_FOR_PROGRAM:
        raise ValueError(f"{program} has no care-plan requirement")
    kinds = current_plan_kinds(practice=patient.practice, patient_ids=[patient.pk], on=on)
    return KIND_FOR_PROGRAM[program] in kinds.get(patient.pk, frozenset())


def current_plan_kinds(
    *, practice: Practice, patient_ids: list[int], on: date
) -> dict[int, frozenset[str]]:
    """Return, per patient, the plan kinds current and shared at the end of local day ``on``."""
    out: dict[int, set[str]] = {}
    for plan, status in review_statuses(practice=practice, patient_ids=patient_ids, on=on).values():
        if status.current:
            out.setdefault(plan.patient_id, set()).add(plan.kind)
    return {patient_id: frozenset(kinds) for patient_id, kinds in out.items()}


def review_statuses(
    *, practice: Practice, patient_ids: list[int], on: date
) -> dict[int, tuple[CarePlan, ReviewStatus]]:
    """Decide where each plan of the patients stands at the end of the local day ``on``.

    Six queries whatever the number of patients (the month's facts builder reads a whole panel
    through here); keyed by plan id.
    """
    cutoff = end_of_local_day(practice, on)
    plans = list(
        CarePlan.objects.filter(patient_id__in_ids=patient_ids, patient__practice=practice)
    )
    if not plans:
        return {}
    statuses: dict[int, tuple[CarePlan, ReviewStatus]] = {}
    latest: dict[int, CarePlanVersion] = {}
    for version in CarePlanVersion.objects.filter(
        plan__in=plans, signed_at__lt=cutoff, published_at__lt=cutoff
    ).order_by("plan_id", "number"):
        latest[version.plan_id] = version
    shared: dict[int, list[date]] = {}
    for version_id, shared_on in Sharing.objects.filter(
        version__in=list(latest.values()), shared_on__lte=on
    ).values_list("version_id", "shared_on"):
        shared.setdefault(version_id, []).append(shared_on)
    conditions: dict[int, list[Condition]] = {}
    for condition in Condition.objects.filter(
        patient_id__in_ids=patient_ids, chronic=True, created_at__lt=cutoff
    ).order_by("created_at"):
        conditions.setdefault(condition.patient_id, []).append(condition)
    events: dict[int, list[AcuteEvent]] = {}
    for event in AcuteEvent.objects.filter(
        patient_id__in_ids=patient_ids, occurred_on__lte=on, recorded_at__lt=cutoff
    ).order_by("occurred_on"):
        events.setdefault(event.patient_id, []).append(event)
    revisions: dict[int, tuple[int, dict[str, Any]]] = {}
    for plan_id, revision, content in (
        DraftRevision.objects.filter(
            plan__in=[p for p in plans if p.draft_saved_at >= cutoff], saved_at__lt=cutoff
        )
        .order_by("plan_id", "revision")
        .values_list("plan_id", "revision", "content")
    ):
        revisions[plan_id] = (revision, content)
    for plan in plans:
        signed = latest.get(plan.pk)
        if signed is None:
            statuses[plan.pk] = (plan, review_status(None, ChangeFacts(), on))
            continue
        facts = VersionFacts(
            signed.number,
            signed.published_at,
            signed.published_on,
            tuple(shared.get(signed.pk, ())),
        )
        draft = (
            (plan.revision, plan.draft) if plan.draft_saved_at < cutoff else revisions.get(plan.pk)
        )
        goals_changed: tuple[str, ...] = ()
        if draft is not None and draft[0] > signed.draft_revision:
            goals_changed = tuple(
                goal_targets_changed(content_of(signed.content), content_of(draft[1]))
            )
        changes = ChangeFacts(
            tuple(
                c.icd10_code
                for c in conditions.get(plan.patient_id, ())
                if c.created_at > signed.published_at
            ),
            tuple(
                f"{e.get_kind_display()} on {e.occurred_on.isoformat()}"
                for e in events.get(plan.patient_id, ())
                if e.occurred_on >= signed.published_on and e.recorded_at > signed.published_at
            ),
            goals_changed,
        )
        statuses[plan.pk] = (plan, review_status(facts, changes, on))
    return statuses


def monitoring_thresholds(patient: Patient) -> list[MonitoringThreshold]:
    """Return the alert levels of each plan's latest signed version (for device alerts)."""
    latest: list[int] = []
    for plan in CarePlan.objects.filter(patient=patient):
        version = plan.versions.filter(signed_at__isnull=False).order_by("-number").first()
        if version is not None:
            latest.append(version.pk)
    return list(MonitoringThreshold.objects.filter(version_id__in=latest).order_by("id"))


def required_kinds(patient: Patient, on: date) -> dict[str, list[str]]:
    """Return the plan kinds the patient's active, consented enrollments need, with programs."""
    kinds: dict[str, list[str]] = {}
    enrollments = active_enrollments(
        Enrollment.objects.filter(patient=patient, program__in=list(KIND_FOR_PROGRAM)), on=on
    )
    for program in sorted(set(enrollments.values_list("program", flat=True))):
        kinds.setdefault(KIND_FOR_PROGRAM[program], []).append(program)
    return kinds


@dataclass(frozen=True)
class PlanSummary:
    plan: CarePlan | None
    kind: str
    kind_label: str
    programs: tuple[str, ...]
    status: ReviewStatus
    latest: CarePlanVersion | None
    unpublished_changes: bool
    awaiting_signature: bool


def summarize(
    patient: Patient, today: date, kinds: dict[str, list[str]] | None = None
) -> list[PlanSummary]:
    """Summarize each plan the patient has or needs."""
    needed = required_kinds(patient, today) if kinds is None else kinds
    plans = {p.kind: p for p in plans_of(patient)}
    summaries = []
    for kind in Kind.values:
        plan = plans.get(kind)
        if plan is None and kind not in needed:
            continue
        latest = latest_version(plan) if plan else None
        status = review_of(plan, today) if plan else review_status(None, ChangeFacts(), today)
        summaries.append(
            PlanSummary(
                plan=plan,
                kind=kind,
                kind_label=Kind(kind).label,
                programs=tuple(needed.get(kind, ())),
                status=status,
                latest=latest,
                unpublished_changes=bool(
                    plan and (latest is None or plan.revision > latest.draft_revision)
                ),
                awaiting_signature=bool(latest and not latest.signed),
            )
        )
    return summaries


def panel_context(patient: Patient, today: date) -> dict[str, Any]:
    """Give the patient page's care-plan panel what it shows (``careplans/_patient_panel.html``)."""
    return {"care_plan_panel": {"patient": patient, "plans": summarize(patient, today)}}


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    summary: PlanSummary


WORKLIST_ORDER = {
    State.MISSING: 0,
    State.OVERDUE: 1,
    State.CHANGED: 2,
    State.UNSHARED: 3,
    State.DUE_SOON: 4,
}


def worklist(practice: Practice, today: date, state: str = "") -> list[WorklistRow]:
    """List plans that need work: missing, unshared, changed, overdue or due within 30 days.

    Patients count when an active, consented CCM, PCM or APCM enrollment needs a plan, or when
    they already have one.
    """
    enrolled = active_enrollments(
        Enrollment.objects.filter(patient__practice=practice, program__in=list(KIND_FOR_PROGRAM)),
        on=today,
    ).values_list("patient_id", "program")
    needs: dict[int, dict[str, list[str]]] = {}
    for patient_id, program in enrolled:
        needs.setdefault(patient_id, {}).setdefault(KIND_FOR_PROGRAM[program], []).append(program)
    with_plans = set(
        CarePlan.objects.filter(patient__practice=practice).values_list("patient_id", flat=True)
    )
    patients = Patient.objects.filter(
        practice=practice, pk__in=set(needs) | with_plans
    ).select_related("practice")
    rows = []
    for patient in patients:
        for summary in summarize(patient, today, needs.get(patient.pk, {})):
            if summary.status.state == State.CURRENT:
                continue
            if state and summary.status.state != state:
                continue
            rows.append(WorklistRow(patient=patient, summary=summary))
    rows.sort(
        key=lambda r: (
            WORKLIST_ORDER[r.summary.status.state],
            r.summary.status.due_on or date.min,
            r.patient.family_name,
            r.patient.given_name,
            r.patient.pk,
        )
    )
    return rows
