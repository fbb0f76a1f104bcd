"""Import program facts from CSV: set-up events, rating scales, complex-CCM decision making,
general-BHI service elements, CoCM episodes and APCM attestations.

Each file holds one kind of fact (``FACT_IMPORTS``). Every row is parsed, then passed to the
same service as the fact's form, inside one transaction: each stored row leaves that service's
audit event, and any problem (or a dry run) rolls the whole file back. Problems name the line
and the CSV column. Dates are YYYY-MM-DD, months YYYY-MM, yes/no cells yes/no, true/false or
1/0 (blank is no).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.devices.models import Device
from careledger.lib.csvimport import (
    Problems,
    RowProblem,
    Table,
    Unreadable,
    decode_csv,
    parse_iso_date,
    read_table,
)
from careledger.patients.models import Patient
from careledger.programs import services
from careledger.programs.models import SCORE_RANGES, DeviceProgram, Instrument, MdmLevel

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
_MONTH = re.compile(r"\d{4}-\d{2}")
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})

Store = Callable[[], object]


class FactsUnreadable(Unreadable):
    """The file is not a UTF-8 CSV."""


def decode_facts(content: bytes) -> str:
    """Decode a facts file's bytes as UTF-8, dropping a byte-order mark."""
    return decode_csv(content, max_bytes=MAX_BYTES, error=FactsUnreadable)


@dataclass(frozen=True)
class FactsReport:
    rows: int
    problems: tuple[RowProblem, ...] = ()
    stored: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Row:
    """One data row being parsed: its cells, and readers that record each problem."""

    ctx: PracticeContext
    now: datetime
    line: int
    values: dict[str, str]
    problems: Problems
    lookup: _Lookup

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def patient(self) -> Patient | None:
        mrn = self.text("mrn")
        found = self.lookup.patients.get(mrn)
        if found is None:
            self.problems.add(self.line, "mrn", f"No patient with MRN {mrn!r} in this practice.")
        return found

    def day(self, name: str) -> date | None:
        return parse_iso_date(self.text(name), self.line, name, self.problems)

    def optional_day(self, name: str) -> date | None:
        return self.day(name) if self.text(name) else None

    def month(self, name: str = "month") -> date | None:
        raw = self.text(name)
        if not _MONTH.fullmatch(raw):
            self.problems.add(self.line, name, f"{raw!r} is not a month; write YYYY-MM.")
            return None
        try:
            return date.fromisoformat(f"{raw}-01")
        except ValueError:
            self.problems.add(self.line, name, f"{raw} is not a calendar month.")
            return None

    def flag(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw not in _YES | _NO:
            self.problems.add(self.line, name, "Use yes or no.")
        return raw in _YES

    def choice(self, name: str, choices: list[str]) -> str | None:
        raw = self.text(name)
        found = next((c for c in choices if c.lower() == raw.lower()), None)
        if found is None:
            self.problems.add(self.line, name, f"Use one of: {', '.join(choices)}.")
        return found

    def member(self, name: str) -> int | None:
        """Return the user id of the active member named by username (blank: None)."""
        username = self.text(name)
        if not username:
            return None
        user_id = self.lookup.members.get(username)
        if user_id is None:
            self.problems.add(self.line, name, f"{username!r} is not a member of the practice.")
        return user_id

    def once(self, key: tuple[object, ...], what: str) -> None:
        """Record a problem when another row of the file has the same ``key``."""
        first = self.lookup.seen.setdefault(key, self.line)
        if first != self.line:
            self.problems.add(self.line, "row", f"Line {first} already gives {what}.")


@dataclass
class _Lookup:
    """The file's patients and the practice's members, read once for the whole file."""

    patients: dict[str, Patient]
    members: dict[str, int]
    devices: dict[tuple[int, str], Device] = field(default_factory=dict)
    seen: dict[tuple[object, ...], int] = field(default_factory=dict)

    @classmethod
    def read(cls, ctx: PracticeContext, table: Table) -> _Lookup:
        mrns = {values.get("mrn", "") for _, values in table.rows}
        patients = {
            p.mrn: p for p in Patient.objects.filter(practice=ctx.practice, mrn__in=mrns - {""})
        }
        members = {
            username: user_id
            for username, user_id in ctx.practice.memberships.filter(
                is_active=True, user__is_active=True
            ).values_list("user__username", "user_id")
        }
        devices: dict[tuple[int, str], Device] = {}
        if "device_serial" in table.columns and patients:
            # Newest assignment first, so a serial assigned twice names the latest device.
            for device in Device.objects.filter(patient__in=patients.values()).order_by(
                "-assigned_on", "-id"
            ):
                devices.setdefault((device.patient_id, device.serial), device)
        return cls(patients, members, devices)


@dataclass(frozen=True)
class FactImport:
    """One kind of fact a CSV file carries: its columns and how a row reaches its service."""

    slug: str  # the upload page's address: /programs/import/<slug>/
    title: str
    noun: str  # plural, for the command's summary: "set-up events"
    permission: str  # the form's permission: whoever may record the fact may import it
    who_may: str  # completes "'x' is a coordinator; only ..."
    guide: tuple[tuple[str, bool, str], ...]  # (column, required, meaning)
    parse: Callable[[Row], Store | None]  # None when the row has a problem
    # The service's field names that differ from the CSV's column names.
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.guide)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, required, _ in self.guide if required)

    def column_help(self) -> str:
        """Describe the columns for ``--help``."""
        lines = ["columns (header row, any order, UTF-8 CSV with or without BOM):"]
        width = max(len(name) for name in self.columns)
        for name, required, meaning in self.guide:
            need = "required" if required else "optional"
            lines.append(f"  {name:<{width}}  {need:<8}  {meaning}")
        lines += [
            "",
            "Every row is checked (through the same service as the form) before anything is",
            "stored; any problem stores nothing. Exit code 2 on bad input.",
        ]
        return "\n".join(lines)


def import_facts(
    kind: FactImport, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool = False
) -> FactsReport:
    """Check every row through its service, then keep them all (or none, or none in a dry run)."""
    problems = Problems()
    table = read_table(
        text, columns=kind.columns, required=kind.required, max_rows=MAX_ROWS, problems=problems
    )
    lookup = _Lookup.read(ctx, table)
    stored = 0
    with transaction.atomic():
        for line, values in table.rows:
            row = Row(ctx=ctx, now=now, line=line, values=values, problems=problems, lookup=lookup)
            store = kind.parse(row)
            if store is None:
                continue
            try:
                with transaction.atomic():
                    store()
                stored += 1
            except ValidationError as error:
                for name, messages in _messages(error):
                    for message in messages:
                        problems.add(line, kind.fields.get(name, name), message)
        if problems.items or dry_run:
            transaction.set_rollback(True)
    return FactsReport(
        rows=table.count,
        problems=tuple(problems.items),
        stored=0 if problems.items or dry_run else stored,
        dry_run=dry_run,
    )


def _messages(error: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(error, "error_dict"):
        return list(error.message_dict.items())
    return [("row", error.messages)]


def _complete(row: Row, problems_before: int) -> bool:
    return len(row.problems.items) == problems_before


def _setup(row: Row) -> Store | None:
    before = len(row.problems.items)
    patient = row.patient()
    program = row.choice("program", list(DeviceProgram.values))
    performed_on = row.day("performed_on")
    performed_by = row.member("performed_by")
    device: Device | None = None
    serial = row.text("device_serial")
    if serial and patient is not None:
        device = row.lookup.devices.get((patient.pk, serial))
        if device is None:
            row.problems.add(
                row.line, "device_serial", f"No device {serial!r} assigned to this patient."
            )
    if patient is None or program is None or performed_on is None or not _complete(row, before):
        return None
    return lambda: services.record_setup(
        ctx=row.ctx,
        patient=patient,
        program=program,
        performed_on=performed_on,
        performed_by=performed_by,
        device=device,
        note=row.text("note"),
        now=row.now,
    )


def _rating_scale(row: Row) -> Store | None:
    before = len(row.problems.items)
    patient = row.patient()
    instrument = row.choice("instrument", list(Instrument.values))
    administered_on = row.day("administered_on")
    raw = row.text("score")
    score = int(raw) if raw.isdigit() else None
    if score is None:
        row.problems.add(row.line, "score", f"{raw!r} is not a whole-number score.")
    if patient is None or instrument is None or administered_on is None or score is None:
        return None
    if not _complete(row, before):
        return None
    return lambda: services.record_rating_scale(
        ctx=row.ctx,
        patient=patient,
        instrument=instrument,
        administered_on=administered_on,
        score=score,
        now=row.now,
    )


def _complex_ccm(row: Row) -> Store | None:
    before = len(row.problems.items)
    patient = row.patient()
    month = row.month()
    mdm = row.choice("mdm", list(MdmLevel.values))
    revised = row.flag("care_plan_revised")
    if patient is not None and month is not None:
        row.once(("mdm", patient.pk, month), "this patient's decision making for the month")
    if patient is None or month is None or mdm is None or not _complete(row, before):
        return None
    return lambda: services.record_complex_ccm(
        ctx=row.ctx,
        patient=patient,
        month_start_on=month,
        mdm=mdm,
        care_plan_revised=revised,
        now=row.now,
    )


def _bhi_elements(row: Row) -> Store | None:
    before = len(row.problems.items)
    patient = row.patient()
    month = row.month()
    elements = services.BhiElements(
        validated_rating_scale=row.flag("validated_rating_scale"),
        bh_care_plan=row.flag("bh_care_plan"),
        treatment_coordination=row.flag("treatment_coordination"),
        continuity=row.flag("continuity"),
    )
    if patient is not None and month is not None:
        row.once(("bhi", patient.pk, month), "this patient's BHI elements for the month")
    if patient is None or month is None or not _complete(row, before):
        return None
    return lambda: services.record_bhi_elements(
        ctx=row.ctx, patient=patient, month_start_on=month, elements=elements, now=row.now
    )


def _cocm_episode(row: Row) -> Store | None:
    before = len(row.problems.items)
    patient = row.patient()
    started_on = row.day("started_on")
    ended_on = row.optional_day("ended_on")
    if patient is None or started_on is None or not _complete(row, before):
        return None

    def store() -> object:
        episode = services.start_cocm_episode(
            ctx=row.ctx,
            patient=patient,
            started_on=started_on,
            psychiatric_consultant=row.text("psychiatric_consultant"),
            psychiatric_consultant_npi=row.text("psychiatric_consultant_npi"),
            now=row.now,
        )
        if ended_on is not None:
            services.end_cocm_episode(ctx=row.ctx, episode=episode, ended_on=ended_on, now=row.now)
        return episode

    return store


def _apcm_attestation(row: Row) -> Store | None:
    before = len(row.problems.items)
    effective_on = row.day("effective_on")
    practitioner = row.member("practitioner")
    boxes = {
        name: row.flag(name)
        for name in ("access_24_7", "continuity", "responsible_for_primary_care")
    }
    if effective_on is None or not _complete(row, before):
        return None
    return lambda: services.record_apcm_attestation(
        ctx=row.ctx, effective_on=effective_on, practitioner=practitioner, now=row.now, **boxes
    )


_MRN = ("mrn", True, "the patient's MRN in the practice")
_SCORES = ", ".join(f"{name} {low}-{high}" for name, (low, high) in SCORE_RANGES.items())

SETUP_EVENTS = FactImport(
    slug="setup-events",
    title="Set-up events",
    noun="set-up events",
    permission="care_facts.edit",
    who_may="only coordinators, practitioners, managers and admins record set-up events",
    guide=(
        _MRN,
        ("program", True, "RPM or RTM"),
        ("performed_on", True, "the set-up and education date, YYYY-MM-DD"),
        ("performed_by", False, "username of the member who did it (default: --user)"),
        ("device_serial", False, "serial of a device assigned to the patient for the program"),
        ("note", False, "free text, at most 400 characters"),
    ),
    parse=_setup,
    fields={"device_id": "device_serial", "patient_id": "mrn"},
)
RATING_SCALES = FactImport(
    slug="rating-scales",
    title="Rating scales",
    noun="rating scales",
    permission="care_facts.edit",
    who_may="only coordinators, practitioners, managers and admins record rating scales",
    guide=(
        _MRN,
        ("instrument", True, "PHQ-9 or GAD-7"),
        ("administered_on", True, "YYYY-MM-DD"),
        ("score", True, f"the total score ({_SCORES})"),
    ),
    parse=_rating_scale,
    fields={"patient_id": "mrn"},
)
COMPLEX_CCM = FactImport(
    slug="mdm",
    title="Complex-CCM decision making",
    noun="decision-making records",
    permission="mdm.record",
    who_may="only the practitioner records medical decision making (CCM-2)",
    guide=(
        _MRN,
        ("month", True, "the month, YYYY-MM; a row replaces the month's earlier record"),
        ("mdm", True, "medical decision making: low, moderate or high (CCM-2)"),
        ("care_plan_revised", False, "care plan established or substantially revised: yes/no"),
    ),
    parse=_complex_ccm,
    fields={"patient_id": "mrn"},
)
BHI_ELEMENTS = FactImport(
    slug="bhi-elements",
    title="General-BHI service elements",
    noun="BHI element records",
    permission="care_facts.edit",
    who_may="only coordinators, practitioners, managers and admins record BHI elements",
    guide=(
        _MRN,
        ("month", True, "the month, YYYY-MM; a row replaces the month's earlier record"),
        ("validated_rating_scale", False, "yes/no"),
        ("bh_care_plan", False, "behavioral-health care plan: yes/no"),
        ("treatment_coordination", False, "yes/no"),
        ("continuity", False, "continuity of care: yes/no"),
    ),
    parse=_bhi_elements,
    fields={"patient_id": "mrn"},
)
COCM_EPISODES = FactImport(
    slug="cocm-episodes",
    title="CoCM episodes",
    noun="CoCM episodes",
    permission="care_facts.edit",
    who_may="only coordinators, practitioners, managers and admins record CoCM episodes",
    guide=(
        _MRN,
        ("started_on", True, "YYYY-MM-DD; the episode's first month is month 1 (BHI-2)"),
        ("psychiatric_consultant", True, "the psychiatric consultant's name"),
        ("psychiatric_consultant_npi", False, "their NPI"),
        ("ended_on", False, "YYYY-MM-DD, when the episode has ended"),
    ),
    parse=_cocm_episode,
    fields={"patient_id": "mrn"},
)
APCM_ATTESTATIONS = FactImport(
    slug="apcm-attestations",
    title="APCM attestations",
    noun="APCM attestations",
    permission="facts.import",
    who_may="only billers, managers and admins import attestations",
    guide=(
        ("effective_on", True, "YYYY-MM-DD"),
        ("practitioner", False, "username of a physician or QHP (blank: the whole practice)"),
        ("access_24_7", False, "24/7 access: yes/no"),
        ("continuity", False, "continuity with a designated care-team member: yes/no"),
        ("responsible_for_primary_care", False, "yes/no"),
    ),
    parse=_apcm_attestation,
    fields={"practitioner_id": "practitioner"},
)

# The order of the upload pages' list.
FACT_IMPORTS = (
    SETUP_EVENTS,
    RATING_SCALES,
    COMPLEX_CCM,
    BHI_ELEMENTS,
    COCM_EPISODES,
    APCM_ATTESTATIONS,
)
