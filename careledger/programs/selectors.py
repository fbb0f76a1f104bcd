"""Read program facts. The bulk readers answer for a whole panel in one query each.

Each bulk reader takes ``patient_ids`` and a month (anything with ``first_on`` and ``last_on``,
normally ``careledger.billing.months.LocalMonth``) and returns plain dicts keyed by patient id,
so the month's facts builder stays at a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from careledger.accounts.models import Practice
from careledger.careplans.models import CarePlanVersion, Kind
from careledger.patients.models import Patient
from careledger.programs.models import (
    ApcmAttestation,
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    OtherClaim,
    RatingScale,
    SetupEvent,
)

# RPM-4: a device period is 30 days; claims that may touch a period ending in the month start
# up to 29 days before it. Set-up claims (99453/98975) are read a little further back.
CLAIM_LOOKBACK = timedelta(days=60)


class Month(Protocol):
    @property
    def first_on(self) -> date: ...

    @property
    def last_on(self) -> date: ...


@dataclass(frozen=True)
class ClaimRow:
    practitioner: str
    code: str
    period_start_on: date
    period_end_on: date


@dataclass(frozen=True)
class MdmRow:
    mdm: str
    care_plan_revised: bool


@dataclass(frozen=True)
class EpisodeRow:
    started_on: date
    ended_on: date | None
    psychiatric_consultant: str


@dataclass(frozen=True)
class ElementsRow:
    validated_rating_scale: bool
    bh_care_plan: bool
    treatment_coordination: bool
    continuity: bool


@dataclass(frozen=True)
class AttestationRow:
    practitioner_id: int | None
    effective_on: date
    access_24_7: bool
    continuity: bool
    responsible_for_primary_care: bool


def other_claims_by_patient(
    *, patient_ids: Iterable[int], month: Month
) -> dict[int, list[ClaimRow]]:
    """Return other practitioners' claims whose period touches the month or the 60 days before."""
    out: dict[int, list[ClaimRow]] = {}
    for row in (
        OtherClaim.objects.filter(
            patient_id__in_ids=patient_ids,
            period_start_on__lte=month.last_on,
            period_end_on__gte=month.first_on - CLAIM_LOOKBACK,
        )
        .order_by("patient_id", "period_start_on", "id")
        .values_list("patient_id", "practitioner", "code", "period_start_on", "period_end_on")
    ):
        out.setdefault(row[0], []).append(ClaimRow(*row[1:]))
    return out


@dataclass(frozen=True)
class PatientMonthRow:
    """The per-patient program facts of one month, read for a whole panel in one query."""

    rpm_setup_on: date | None
    rtm_setup_on: date | None
    mdm: MdmRow | None
    plan_published: bool
    cocm_episode: EpisodeRow | None
    bhi_elements: ElementsRow | None

    def setup_on(self, program: str) -> date | None:
        """Return the latest set-up day of the program by the month's end (the episode)."""
        return {"RPM": self.rpm_setup_on, "RTM": self.rtm_setup_on}.get(program)


def patient_month_facts(*, patient_ids: Iterable[int], month: Month) -> dict[int, PatientMonthRow]:
    """Return every patient's set-up, MDM, plan revision, CoCM episode and BHI elements.

    One query whatever the panel's size or mix of programs: each fact is a correlated subquery
    of the patient row, so the facts builder's query count never depends on the panel.
    """
    patient = OuterRef("pk")
    in_month = {"month_start_on": month.first_on}

    def latest_setup(program: str) -> Subquery:
        return Subquery(
            SetupEvent.objects.filter(
                patient=patient, program=program, performed_on__lte=month.last_on
            )
            .order_by("-performed_on", "-id")
            .values("performed_on")[:1]
        )

    def mdm(column: str) -> Subquery:
        return Subquery(
            ComplexCcmRecord.objects.filter(patient=patient, **in_month).values(column)[:1]
        )

    episode = CocmEpisode.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=month.first_on),
        patient=patient,
        started_on__lte=month.last_on,
    ).order_by("-started_on", "-id")

    def bhi(column: str) -> Subquery:
        return Subquery(
            BhiElementsRecord.objects.filter(patient=patient, **in_month).values(column)[:1]
        )

    rows = (
        Patient.objects.filter(pk__in_ids=patient_ids)
        .annotate(
            rpm_setup_on=latest_setup("RPM"),
            rtm_setup_on=latest_setup("RTM"),
            mdm_level=mdm("mdm"),
            mdm_revised=mdm("care_plan_revised"),
            # CCM-2: a comprehensive plan version published in the month is the plan
            # established or substantially revised.
            plan_published=Exists(
                CarePlanVersion.objects.filter(
                    plan__patient=patient,
                    plan__kind=Kind.COMPREHENSIVE,
                    published_on__gte=month.first_on,
                    published_on__lte=month.last_on,
                )
            ),
            cocm_started_on=Subquery(episode.values("started_on")[:1]),
            cocm_ended_on=Subquery(episode.values("ended_on")[:1]),
            cocm_consultant=Subquery(episode.values("psychiatric_consultant")[:1]),
            bhi_scale=bhi("validated_rating_scale"),
            bhi_plan=bhi("bh_care_plan"),
            bhi_coordination=bhi("treatment_coordination"),
            bhi_continuity=bhi("continuity"),
            # P10: a PHQ-9 or GAD-7 administered in the month is the rating-scale element.
            scale_in_month=Exists(
                RatingScale.objects.filter(
                    patient=patient,
                    administered_on__gte=month.first_on,
                    administered_on__lte=month.last_on,
                )
            ),
        )
        .order_by()
        .values_list(
            "pk",
            "rpm_setup_on",
            "rtm_setup_on",
            "mdm_level",
            "mdm_revised",
            "plan_published",
            "cocm_started_on",
            "cocm_ended_on",
            "cocm_consultant",
            "bhi_scale",
            "bhi_plan",
            "bhi_coordination",
            "bhi_continuity",
            "scale_in_month",
            named=True,
        )
    )
    out: dict[int, PatientMonthRow] = {}
    for row in rows:
        elements = None
        if row.bhi_plan is not None or row.scale_in_month:
            elements = ElementsRow(
                validated_rating_scale=bool(row.bhi_scale) or bool(row.scale_in_month),
                bh_care_plan=bool(row.bhi_plan),
                treatment_coordination=bool(row.bhi_coordination),
                continuity=bool(row.bhi_continuity),
            )
        out[row.pk] = PatientMonthRow(
            rpm_setup_on=row.rpm_setup_on,
            rtm_setup_on=row.rtm_setup_on,
            mdm=None if row.mdm_level is None else MdmRow(row.mdm_level, bool(row.mdm_revised)),
            plan_published=bool(row.plan_published),
            cocm_episode=(
                None
                if row.cocm_started_on is None
                else EpisodeRow(row.cocm_started_on, row.cocm_ended_on, row.cocm_consultant)
            ),
            bhi_elements=elements,
        )
    return out


def cocm_month_index(episode_started_on: date, month: Month) -> int:
    """Return the month's position in the episode: 1 for the month it started (BHI-2)."""
    first = month.first_on
    return (first.year - episode_started_on.year) * 12 + first.month - episode_started_on.month + 1


def attestations_in_force(*, practice: Practice, month: Month) -> dict[int | None, AttestationRow]:
    """Return the APCM attestation in force on the month's last day, by practitioner id.

    Key ``None`` holds the practice-wide attestation; a practitioner's own attestation takes
    precedence over it (see ``attestation_for``).
    """
    out: dict[int | None, AttestationRow] = {}
    for row in (
        ApcmAttestation.objects.filter(practice=practice, effective_on__lte=month.last_on)
        .order_by("effective_on", "id")
        .values_list(
            "practitioner_id",
            "effective_on",
            "access_24_7",
            "continuity",
            "responsible_for_primary_care",
        )
    ):
        out[row[0]] = AttestationRow(*row)
    return out


def attestation_for(
    attestations: dict[int | None, AttestationRow], practitioner_id: int
) -> AttestationRow | None:
    """Pick the practitioner's own attestation, else the practice's."""
    return attestations.get(practitioner_id) or attestations.get(None)


# Per-patient readers for the pages and the API.


def setup_events_of(patient: Patient) -> QuerySet[SetupEvent]:
    return SetupEvent.objects.filter(patient=patient).select_related("performed_by", "device")


def other_claims_of(patient: Patient) -> QuerySet[OtherClaim]:
    return OtherClaim.objects.filter(patient=patient)


def complex_ccm_of(patient: Patient) -> QuerySet[ComplexCcmRecord]:
    return ComplexCcmRecord.objects.filter(patient=patient).select_related("recorded_by")


def cocm_episodes_of(patient: Patient) -> QuerySet[CocmEpisode]:
    return CocmEpisode.objects.filter(patient=patient)


def rating_scales_of(patient: Patient) -> QuerySet[RatingScale]:
    return RatingScale.objects.filter(patient=patient)


def bhi_elements_of(patient: Patient) -> QuerySet[BhiElementsRecord]:
    return BhiElementsRecord.objects.filter(patient=patient)


def attestations_of(practice: Practice) -> QuerySet[ApcmAttestation]:
    return ApcmAttestation.objects.filter(practice=practice).select_related("practitioner")


def panel_context(patient: Patient, today: date) -> dict[str, object]:
    """Gather what the patient page's billing-facts panel shows on ``today`` (practice-local).

    The month's MDM and BHI elements are this month's and the previous month's: the previous
    month is the one a practitioner documents before the close.
    """
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    months = (this_month, last_month)
    return {
        "patient": patient,
        "today": today,
        "this_month": this_month,
        "last_month": last_month,
        "setup_events": list(setup_events_of(patient).order_by("-performed_on", "-id")[:20]),
        "other_claims": list(other_claims_of(patient).order_by("-period_start_on", "-id")[:20]),
        "mdm_records": list(
            complex_ccm_of(patient).filter(month_start_on__in=months).order_by("-month_start_on")
        ),
        "cocm_episodes": list(cocm_episodes_of(patient)[:5]),
        "rating_scales": list(rating_scales_of(patient)[:12]),
        "bhi_elements": list(
            bhi_elements_of(patient)
            .filter(month_start_on__in=months)
            .select_related("recorded_by")
            .order_by("-month_start_on")
        ),
    }
