"""The dashboard rows and the pre-close worklist, from the one facts builder and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from careledger.accounts.models import Practice
from careledger.billing.facts import build_month_facts, evaluate_built
from careledger.billing.months import LocalMonth
from careledger.lib.business_days import pre_close_opens_on, us_federal_holidays
from careledger.lib.collector import collector_paused
from careledger.patients.models import Patient
from careledger.worklists.fees import national_fee
from careledger.worklists.models import OutreachAssignment, PracticeFee, PracticeHoliday

# The base code a further threshold replaces within one family (RPM-2, RPM-3, RTM-1): reaching
# 99457 replaces 99470, so what is at stake is the difference.
REPLACES = {
    "99457": "99470",
    "98980": "98979",
    "99454": "99445",
    "98976": "98984",
    "98977": "98985",
    "98978": "98986",
}


@dataclass(frozen=True)
class PanelRow:
    """One enrolled patient and program in the month, as the engine sees it now."""

    patient_id: int
    mrn: str
    name: str
    coordinator_id: int | None
    program: str
    minutes: int
    interactive_contact: bool
    reading_days: int | None
    codes: tuple[str, ...]
    flags: tuple[str, ...]
    next_code: str | None
    minutes_needed: int | None
    device_next_code: str | None
    reading_days_needed: int | None
    entry_ids: tuple[int, ...]
    projected_value: Decimal | None
    # The device period containing as_of (RPM-4): its last day, and whether as_of has a reading.
    period_end_on: date | None = None
    read_on_as_of: bool = False


@dataclass(frozen=True)
class WorklistItem:
    """A patient-program a short contact (or more readings) away from its next code."""

    row: PanelRow
    reason: str  # "minutes" or "reading_days"
    reachable: bool
    every_remaining_day: bool
    value_at_stake: Decimal | None
    value_per_minute: Decimal | None
    assigned_to: str | None

    @property
    def next_code(self) -> str | None:
        return self.row.next_code if self.reason == "minutes" else self.row.device_next_code


class Fees:
    """Amounts by code on a date: the practice's own first, then the shipped table."""

    def __init__(self, practice: Practice, on: date) -> None:
        self.on = on
        self.own: dict[str, Decimal] = {}
        for fee in PracticeFee.objects.filter(practice=practice, effective_on__lte=on).order_by(
            "code", "-effective_on", "-created_at", "-id"
        ):
            self.own.setdefault(fee.code, fee.amount)
        self._amounts: dict[str, Decimal | None] = {}  # a panel asks for the same few codes

    def amount(self, code: str | None) -> Decimal | None:
        if code is None:
            return None
        if code not in self._amounts:
            self._amounts[code] = self.own.get(code, national_fee(code, self.on))
        return self._amounts[code]

    def at_stake(self, next_code: str | None, codes: tuple[str, ...]) -> Decimal | None:
        gain = self.amount(next_code)
        if gain is None or next_code is None:
            return None
        replaced = REPLACES.get(next_code)
        if replaced in codes:
            lost = self.amount(replaced)
            return None if lost is None else gain - lost
        return gain


@collector_paused()
def panel_rows(
    *,
    practice: Practice,
    month: LocalMonth,
    as_of: date,
    coordinator_id: int | None = None,
    patient_ids: list[int] | None = None,
    fees: Fees | None = None,
) -> list[PanelRow]:
    """Return one row per enrolled patient and program, ordered by patient name.

    ``fees``: the practice's amounts on the month's last day, when the caller has them.
    """
    built = build_month_facts(
        practice=practice,
        month=month,
        coordinator_id=coordinator_id,
        patient_ids=patient_ids,
        as_of=as_of,
    )
    # Plain tuples, not model instances: the page needs four fields of a few hundred patients.
    patients = {
        pk: (mrn, f"{family}, {given}", coordinator)
        for pk, mrn, given, family, coordinator in Patient.objects.filter(
            pk__in=list(built)
        ).values_list("id", "mrn", "given_name", "family_name", "coordinator_id")
    }
    if fees is None:
        fees = Fees(practice, month.last_on)
    rows: list[PanelRow] = []
    for patient_id, parts in built.items():
        mrn, name, coordinator = patients[patient_id]
        view = evaluate_built(parts, month, as_of)
        for built_part, result in view.results:
            for program, summary in result.programs.items():
                codes = tuple(line.code for line in result.lines if line.program == program)
                value = sum(
                    (
                        (fees.amount(line.code) or Decimal(0)) * line.units
                        for line in result.lines
                        if line.program == program
                    ),
                    Decimal(0),
                )
                nxt, device = summary.next_threshold, summary.next_device_threshold
                period = next(
                    (
                        p
                        for p in built_part.facts.device_periods
                        if p.program == program and p.period_start_on <= as_of <= p.period_end_on
                    ),
                    None,
                )
                rows.append(
                    PanelRow(
                        patient_id=patient_id,
                        mrn=mrn,
                        name=name,
                        coordinator_id=coordinator,
                        program=program,
                        minutes=summary.minutes,
                        interactive_contact=summary.interactive_contact,
                        reading_days=summary.reading_days,
                        codes=codes,
                        flags=tuple(
                            sorted({f.code for f in result.flags if f.program in (program, None)})
                        ),
                        next_code=nxt.code if nxt else None,
                        minutes_needed=nxt.minutes_needed if nxt else None,
                        device_next_code=device.code if device else None,
                        reading_days_needed=device.reading_days_needed if device else None,
                        entry_ids=built_part.entry_ids.get(program, ()),
                        projected_value=value if codes else None,
                        period_end_on=period.period_end_on if period else None,
                        read_on_as_of=bool(period and as_of in (period.reading_dates or ())),
                    )
                )
    rows.sort(key=lambda r: (r.name, r.patient_id, r.program))
    return rows


def holidays_of(practice: Practice, year: int) -> frozenset[date]:
    """Return the practice's non-business days of ``year``."""
    own = set(
        PracticeHoliday.objects.filter(practice=practice, day__year=year).values_list(
            "day", flat=True
        )
    )
    federal = us_federal_holidays(year) if practice.federal_holidays else frozenset()
    return frozenset(own) | federal


def worklist_opens_on(practice: Practice, month: LocalMonth) -> date:
    """Return the day the month's pre-close worklist opens for the practice."""
    year, number = month.first_on.year, month.first_on.month
    return pre_close_opens_on(year, number, holidays_of(practice, year))


def pre_close_worklist(
    *, practice: Practice, month: LocalMonth, as_of: date, coordinator_id: int | None = None
) -> list[WorklistItem]:
    """List patients a short contact or a few readings from their next code, best value first.

    Minutes: within the practice's window (default 5) below the next threshold. Reading days:
    the next device code still reachable in the period (or out of reach, listed last).
    """
    window = practice.pre_close_window_minutes
    fees = Fees(practice, month.last_on)  # one fee query for the rows' values and the stakes
    rows = panel_rows(
        practice=practice, month=month, as_of=as_of, coordinator_id=coordinator_id, fees=fees
    )
    assigned = {
        (a.patient_id, a.program): a.assigned_to.get_username()
        for a in OutreachAssignment.objects.filter(practice=practice, month=month.label)
        .select_related("assigned_to")
        .order_by("assigned_at")
    }
    month_open = as_of <= month.last_on
    items: list[WorklistItem] = []
    for row in rows:
        needed = row.minutes_needed
        if needed is not None and 0 < needed <= window:
            value = fees.at_stake(row.next_code, row.codes)
            items.append(
                WorklistItem(
                    row=row,
                    reason="minutes",
                    reachable=month_open,
                    every_remaining_day=False,
                    value_at_stake=value,
                    value_per_minute=(value / needed) if value is not None else None,
                    assigned_to=assigned.get((row.patient_id, row.program)),
                )
            )
        days_needed = row.reading_days_needed
        if days_needed is not None and days_needed > 0 and row.reading_days is not None:
            days_left = reading_days_left(row, month, as_of)
            value = fees.at_stake(row.device_next_code, row.codes)
            items.append(
                WorklistItem(
                    row=row,
                    reason="reading_days",
                    reachable=days_needed <= days_left,
                    every_remaining_day=days_needed == days_left,
                    value_at_stake=value,
                    value_per_minute=None,
                    assigned_to=assigned.get((row.patient_id, row.program)),
                )
            )
    items.sort(
        key=lambda i: (
            not i.reachable,
            -(i.value_per_minute or i.value_at_stake or Decimal(0)),
            i.row.minutes_needed or 0,
            i.row.name,
        )
    )
    return items


def reading_days_left(row: PanelRow, month: LocalMonth, as_of: date) -> int:
    """Count the days that can still add a reading day to the period containing ``as_of``.

    P5: a day counts once, so ``as_of`` itself counts only if it has no reading yet. Without a
    known period (no reading so far), the rest of the month is the best estimate.
    """
    end = row.period_end_on or month.last_on
    left = (end - as_of).days + 1
    if row.read_on_as_of:
        left -= 1
    return max(left, 0)
