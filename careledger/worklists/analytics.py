"""Capture analytics: how much of the work a practice does turns into billed codes, per month.

Per month, program and coordinator: enrolled patients; patients reaching each code; of the
patients billed for device supply (99445/99454) the share also billed for treatment management
(99470/99457), the article's diagnostic (typical programs 60-70%, the best 85-90%); near misses,
patients who ended the month within 5 minutes or 2 reading days of a code, and what those codes
were worth (the practice's fees, else the shipped table); and a 12-month trend.

A month that was closed is read from its stored billing month (lines not held or removed, and
the engine's per-program summaries kept at the close); any other month is computed live with the
one facts builder and the engine. Either way the cost is a constant number of queries per month,
whatever the panel's size.

Worklists sit above billing (import-linter layers), so this module may read both the closed
months and the fee table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from careledger.accounts.models import Practice, User
from careledger.billing.facts import build_month_facts, evaluate_built
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import LocalMonth, month_of
from careledger.patients.models import Patient
from careledger.worklists.selectors import Fees

DEVICE_SUPPLY = frozenset({"99445", "99454"})
TREATMENT = frozenset({"99470", "99457"})
NEAR_MINUTES = 5
NEAR_READING_DAYS = 2
TREND_MONTHS = 12
# What a month bills: every line a person has not held or removed (needs_review lines are the
# engine's captures still waiting for a decision; approval holds those left undecided).
BILLED = (
    BillingLine.Status.PROPOSED,
    BillingLine.Status.NEEDS_REVIEW,
    BillingLine.Status.APPROVED,
)
ALL = ""  # the key of "every program" / "every coordinator"
# The article's benchmarks for the device-to-treatment share, in percent.
TYPICAL_SHARE = (60, 70)
BEST_SHARE = (85, 90)


class Source:
    LIVE = "live"  # not closed: computed now with the facts builder and the engine
    DRAFT = "draft"  # closed, not yet approved
    APPROVED = "approved"  # approved and locked


@dataclass(frozen=True)
class NearMiss:
    """A code a patient ended the month just short of."""

    code: str
    minutes_needed: int | None
    reading_days_needed: int | None
    value: Decimal | None


@dataclass(frozen=True)
class PatientProgram:
    """One patient in one program in one month: what was billed and what was just missed."""

    patient_id: int
    coordinator_id: int | None
    program: str
    codes: frozenset[str]
    # None when the month was closed before the engine's summaries were kept with it.
    near_misses: tuple[NearMiss, ...] | None


@dataclass
class Capture:
    """The numbers of one group: a month, a program (or all) and a coordinator (or all)."""

    month: str
    source: str
    program: str
    coordinator_id: int | None
    coordinator: str
    enrolled: int = 0
    reached: dict[str, int] = field(default_factory=dict)
    device_supply: int = 0
    device_and_treatment: int = 0
    near_miss_patients: int | None = 0
    near_miss_value: Decimal = Decimal(0)
    near_miss_unpriced: int = 0

    @property
    def share(self) -> Decimal | None:
        """Percent of device-supply patients also billed for treatment management."""
        if not self.device_supply:
            return None
        return (Decimal(100) * self.device_and_treatment / self.device_supply).quantize(
            Decimal("0.1")
        )

    @property
    def reached_list(self) -> list[tuple[str, int]]:
        return sorted(self.reached.items())


@dataclass(frozen=True)
class MonthCapture:
    """One month's records and its groups."""

    month: LocalMonth
    source: str
    records: tuple[PatientProgram, ...]
    groups: tuple[Capture, ...]

    @property
    def total(self) -> Capture:
        """The whole practice, every program."""
        return next(g for g in self.groups if g.program == ALL and g.coordinator_id is None)


def near_misses_of(
    summary: dict[str, Any], codes: Iterable[str], fees: Fees
) -> tuple[NearMiss, ...]:
    """Return the codes within 5 minutes or 2 reading days, from an engine summary's dict."""
    billed = tuple(codes)
    out: list[NearMiss] = []
    for key, measure, window in (
        ("next_threshold", "minutes_needed", NEAR_MINUTES),
        ("next_device_threshold", "reading_days_needed", NEAR_READING_DAYS),
    ):
        threshold = summary.get(key) or {}
        needed = threshold.get(measure)
        if needed is None or not 0 < int(needed) <= window:
            continue
        code = str(threshold["code"])
        out.append(
            NearMiss(
                code=code,
                minutes_needed=int(needed) if measure == "minutes_needed" else None,
                reading_days_needed=int(needed) if measure == "reading_days_needed" else None,
                value=fees.at_stake(code, billed),
            )
        )
    return tuple(out)


def _coordinators(patient_ids: Iterable[int]) -> dict[int, int | None]:
    return dict(
        Patient.objects.filter(pk__in=list(patient_ids)).values_list("pk", "coordinator_id")
    )


def stored_records(billing_month: BillingMonth, month: LocalMonth) -> list[PatientProgram]:
    """Read a closed month's patient-programs from its stored patient-months and lines."""
    fees = Fees(billing_month.practice, month.last_on)
    codes: dict[tuple[int, str], set[str]] = defaultdict(set)
    for patient_id, program, code in BillingLine.objects.filter(
        billing_month=billing_month, status__in=BILLED
    ).values_list("patient_id", "program", "code"):
        codes[(patient_id, program)].add(code)
    summaries: dict[tuple[int, str], dict[str, Any] | None] = {}
    for patient_id, programs, kept in PatientMonth.objects.filter(
        billing_month=billing_month
    ).values_list("patient_id", "programs", "summaries"):
        for program in programs:
            previous = summaries.get((patient_id, program))
            summary = None if kept is None else kept.get(program, {})
            # Two billing practitioners for one program: keep the summary with a next code.
            if previous is None or summary:
                summaries[(patient_id, program)] = summary
    for key in codes:
        # A line without the program's summary (added by hand): billed, no near miss known.
        summaries.setdefault(key, {})
    coordinators = _coordinators({pid for pid, _ in summaries})
    out = []
    for (patient_id, program), summary in sorted(summaries.items()):
        billed = frozenset(codes.get((patient_id, program), ()))
        out.append(
            PatientProgram(
                patient_id=patient_id,
                coordinator_id=coordinators.get(patient_id),
                program=program,
                codes=billed,
                near_misses=None if summary is None else near_misses_of(summary, billed, fees),
            )
        )
    return out


def live_records(practice: Practice, month: LocalMonth, today: date) -> list[PatientProgram]:
    """Compute a month that was not closed with the facts builder and the engine (as of today)."""
    built = build_month_facts(practice=practice, month=month, as_of=today)
    if not built:
        return []
    fees = Fees(practice, month.last_on)
    coordinators = _coordinators(built)
    merged: dict[tuple[int, str], tuple[set[str], list[NearMiss]]] = {}
    for patient_id, parts in built.items():
        view = evaluate_built(parts, month, today)
        for _, result in view.results:
            for program, summary in result.programs.items():
                codes, misses = merged.setdefault((patient_id, program), (set(), []))
                codes |= {line.code for line in result.lines if line.program == program}
                billed = tuple(line.code for line in result.lines if line.program == program)
                misses.extend(near_misses_of(summary.as_dict(), billed, fees))
    return [
        PatientProgram(
            patient_id=patient_id,
            coordinator_id=coordinators.get(patient_id),
            program=program,
            codes=frozenset(codes),
            near_misses=tuple(misses),
        )
        for (patient_id, program), (codes, misses) in sorted(merged.items())
    ]


def aggregate(
    records: Iterable[PatientProgram],
    *,
    month: str,
    source: str,
    names: dict[int, str],
) -> list[Capture]:
    """Group patient-programs by program (and every program) and coordinator (and everyone).

    Patients are counted once per group, however many programs or practitioners they have.
    """
    groups: dict[tuple[str, int | None], Capture] = {}
    patients: dict[tuple[str, int | None], dict[int, list[PatientProgram]]] = defaultdict(
        lambda: defaultdict(list)
    )
    records = list(records)
    for record in records:
        for program in (ALL, record.program):
            for coordinator in {None, record.coordinator_id or 0}:
                patients[(program, coordinator)][record.patient_id].append(record)
    if not records:
        patients[(ALL, None)] = defaultdict(list)
    for (program, coordinator), by_patient in patients.items():
        group = Capture(
            month=month,
            source=source,
            program=program,
            coordinator_id=coordinator,
            coordinator=(
                "Everyone" if coordinator is None else names.get(coordinator, "No coordinator")
            ),
        )
        reached: dict[str, int] = defaultdict(int)
        unknown = False
        for items in by_patient.values():
            group.enrolled += 1
            codes = frozenset().union(*(r.codes for r in items))
            for code in codes:
                reached[code] += 1
            if codes & DEVICE_SUPPLY:
                group.device_supply += 1
                group.device_and_treatment += int(bool(codes & TREATMENT))
            if any(r.near_misses is None for r in items):
                unknown = True
                continue
            misses = [m for r in items for m in r.near_misses or ()]
            if misses:
                group.near_miss_patients = (group.near_miss_patients or 0) + 1
            for miss in misses:
                if miss.value is None:
                    group.near_miss_unpriced += 1
                else:
                    group.near_miss_value += miss.value
        if unknown:
            group.near_miss_patients = None
        group.reached = dict(reached)
        groups[(program, coordinator)] = group
    return sorted(
        groups.values(),
        key=lambda g: (g.program != ALL, g.program, g.coordinator_id is not None, g.coordinator),
    )


def coordinator_names(practice: Practice) -> dict[int, str]:
    """Return the display names of the users coordinating the practice's patients."""
    ids = set(
        Patient.objects.filter(practice=practice, coordinator__isnull=False).values_list(
            "coordinator_id", flat=True
        )
    )
    return {u.pk: u.get_full_name() or u.get_username() for u in User.objects.filter(pk__in=ids)}


def trend_months(last: LocalMonth, count: int = TREND_MONTHS) -> list[LocalMonth]:
    """Return ``count`` months ending with ``last``, oldest first."""
    months = [last]
    while len(months) < count:
        months.append(month_of(months[-1].first_on - timedelta(days=1), last.timezone))
    return months[::-1]


def capture_trend(
    *,
    practice: Practice,
    last: LocalMonth,
    today: date,
    count: int = TREND_MONTHS,
    live: Callable[[Practice, LocalMonth, date], list[PatientProgram]] = live_records,
) -> list[MonthCapture]:
    """Return the capture numbers of the ``count`` months ending with ``last``, oldest first.

    Closed months come from their stored billing month; the others are computed live.
    """
    months = trend_months(last, count)
    closed = {
        bm.month: bm
        for bm in BillingMonth.objects.select_related("practice").filter(
            practice=practice, month__in=[m.label for m in months]
        )
    }
    names = coordinator_names(practice)
    out = []
    for month in months:
        stored = closed.get(month.label)
        if stored is not None:
            source = Source.APPROVED if stored.approved else Source.DRAFT
            records = stored_records(stored, month)
        elif month.first_on > today:
            source, records = Source.LIVE, []
        else:
            source, records = Source.LIVE, live(practice, month, today)
        groups = aggregate(records, month=month.label, source=source, names=names)
        out.append(MonthCapture(month, source, tuple(records), tuple(groups)))
    return out


CSV_COLUMNS = (
    "month",
    "source",
    "program",
    "coordinator_id",
    "coordinator",
    "enrolled_patients",
    "patients_by_code",
    "device_supply_patients",
    "also_treatment_patients",
    "capture_share_pct",
    "near_miss_patients",
    "near_miss_value",
    "near_miss_without_fee",
)


def csv_rows(trend: Iterable[MonthCapture]) -> list[list[object]]:
    """Return one row per month, program and coordinator (the chart's data and its detail)."""
    rows: list[list[object]] = []
    for month in trend:
        for g in month.groups:
            rows.append(
                [
                    g.month,
                    g.source,
                    g.program or "all",
                    "" if g.coordinator_id is None else g.coordinator_id,
                    g.coordinator,
                    g.enrolled,
                    " ".join(f"{code}={n}" for code, n in g.reached_list),
                    g.device_supply,
                    g.device_and_treatment,
                    "" if g.share is None else g.share,
                    "" if g.near_miss_patients is None else g.near_miss_patients,
                    "" if g.near_miss_patients is None else g.near_miss_value,
                    g.near_miss_unpriced,
                ]
            )
    return rows


def chart_data(trend: Iterable[MonthCapture]) -> dict[str, Any]:
    """Return the capture-rate chart's data for ``json_script`` (whole practice per month)."""
    months = list(trend)
    totals = [m.total for m in months]
    return {
        "labels": [m.month.label for m in months],
        "sources": [m.source for m in months],
        "share": [None if t.share is None else float(t.share) for t in totals],
        "device_supply": [t.device_supply for t in totals],
        "device_and_treatment": [t.device_and_treatment for t in totals],
        "near_misses": [t.near_miss_patients for t in totals],
        "bands": [
            {"label": "Typical programs", "from": TYPICAL_SHARE[0], "to": TYPICAL_SHARE[1]},
            {"label": "Best programs", "from": BEST_SHARE[0], "to": BEST_SHARE[1]},
        ],
    }
