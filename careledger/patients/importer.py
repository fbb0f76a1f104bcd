"""Import a patient roster (patients and conditions) from CSV: every row checked, all or nothing.

The file is UTF-8 (a byte-order mark is accepted), comma-separated, CRLF or LF line endings,
with a header row naming the columns in any order (case and surrounding spaces ignored):

=============  ========  ===============================================================
column         required  meaning
=============  ========  ===============================================================
mrn            yes       medical record number, unique within the practice
given_name     yes       first name
family_name    yes       last name
birth_date     yes       YYYY-MM-DD, not in the future
sex            yes       female, male, other or unknown (F, M, O, U accepted)
mbi            no        Medicare Beneficiary Identifier, dashes allowed (1EG4-TE5-MK73)
coverage       no        medicare_ffs (default), medicare_advantage or other
qmb            no        qualified Medicare beneficiary: yes/no, true/false, 1/0 (default no)
phone          no        as written
address_line   no        street address
city           no
state          no        two-letter postal code
postal_code    no        ZIP code
coordinator    no        username of the care coordinator, a member of the practice
conditions     no        ICD-10-CM codes separated by ``;``, each optionally ``CODE:YYYY-MM-DD``
                         with its onset date (``E11.9;I10:2019-04-01``); all recorded as chronic
=============  ========  ===============================================================

Blank lines are skipped. Every row is validated before anything is stored; a problem in any row
stores nothing and is reported as (line, field, message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership
from careledger.audit.services import record_event
from careledger.lib.csvimport import (
    Problems,
    RowProblem,
    Unreadable,
    decode_csv,
    parse_iso_date,
    read_table,
)
from careledger.lib.identifiers import icd10_problem, normalize_icd10
from careledger.lib.localtime import local_today
from careledger.patients.models import Patient
from careledger.patients.services import add_condition, build_patient, create_patient

COLUMNS = (
    "mrn",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "mbi",
    "coverage",
    "qmb",
    "phone",
    "address_line",
    "city",
    "state",
    "postal_code",
    "coordinator",
    "conditions",
)
REQUIRED_COLUMNS = ("mrn", "given_name", "family_name", "birth_date", "sex")
MAX_BYTES = 10 * 1024 * 1024  # reliability case 14: refuse oversized uploads up front
MAX_ROWS = 20_000

_SEXES = {
    "female": "female",
    "f": "female",
    "male": "male",
    "m": "male",
    "other": "other",
    "o": "other",
    "unknown": "unknown",
    "u": "unknown",
}
_TEXT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "mbi",
    "phone",
    "address_line",
    "city",
    "state",
    "postal_code",
)
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class RosterRow:
    line: int
    patient: dict[str, Any]
    conditions: tuple[tuple[str, date | None], ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did."""

    rows: int
    problems: tuple[RowProblem, ...] = ()
    patients_stored: int = 0
    conditions_stored: int = 0
    conditions_found: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})


class RosterUnreadable(Unreadable):
    """The file cannot be read as a UTF-8 CSV at all (not a row problem)."""


@dataclass
class _Problems(Problems):
    def add_error(self, line: int, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                for item in errors:
                    self.add(line, name, " ".join(item.messages))
        else:
            self.add(line, "row", " ".join(error.messages))


def decode_roster(content: bytes) -> str:
    """Decode the file's bytes as UTF-8, dropping a byte-order mark."""
    return decode_csv(content, max_bytes=MAX_BYTES, error=RosterUnreadable)


def import_roster(
    *,
    ctx: PracticeContext,
    text: str,
    now: datetime,
    dry_run: bool = False,
    source: str = "",
) -> ImportReport:
    """Validate every row of a roster, then store all its patients and conditions or none."""
    problems = _Problems()
    rows, row_count = _parse(ctx, text, now, problems)
    conditions_found = sum(len(row.conditions) for row in rows)
    if problems.items or dry_run:
        return ImportReport(
            rows=row_count,
            problems=tuple(sorted(problems.items, key=lambda p: (p.line, p.field))),
            conditions_found=conditions_found,
            dry_run=dry_run,
        )
    line = 0
    try:
        with transaction.atomic():
            conditions = 0
            for row in rows:
                line = row.line
                patient = create_patient(ctx=ctx, data=row.patient, now=now)
                for code, onset_on in row.conditions:
                    add_condition(
                        ctx=ctx, patient=patient, icd10_code=code, onset_on=onset_on, now=now
                    )
                    conditions += 1
            record_event(
                "patient.imported",
                actor=ctx.user,
                practice=ctx.practice,
                source_ip=ctx.source_ip,
                details={
                    "source": source,
                    "patients": len(rows),
                    "conditions": conditions,
                },
                now=now,
            )
    except ValidationError as exc:
        # Another writer took an MRN between the check and the save: nothing was stored.
        problems.add_error(line, exc)
        return ImportReport(
            rows=row_count, problems=tuple(problems.items), conditions_found=conditions_found
        )
    return ImportReport(
        rows=row_count,
        patients_stored=len(rows),
        conditions_stored=conditions,
        conditions_found=conditions_found,
    )


def _parse(
    ctx: PracticeContext, text: str, now: datetime, problems: _Problems
) -> tuple[list[RosterRow], int]:
    """Return the rows that are fine and how many data rows the file holds."""
    table = read_table(
        text, columns=COLUMNS, required=REQUIRED_COLUMNS, max_rows=MAX_ROWS, problems=problems
    )
    if problems.items:
        return [], table.count
    coordinators = {
        m.user.get_username(): m.user.pk
        for m in Membership.objects.filter(practice=ctx.practice, is_active=True).select_related(
            "user"
        )
    }
    first_line: dict[str, int] = {}
    rows: list[RosterRow] = []
    for line, values in table.rows:
        row = _parse_row(ctx, line, values, now, coordinators, problems)
        mrn = values["mrn"]
        if mrn:
            if mrn in first_line:
                problems.add(line, "mrn", f"MRN {mrn} is also on line {first_line[mrn]}.")
            else:
                first_line[mrn] = line
        if row is not None:
            rows.append(row)
    return rows, table.count


def _parse_row(
    ctx: PracticeContext,
    line: int,
    values: dict[str, str],
    now: datetime,
    coordinators: dict[str, int],
    problems: _Problems,
) -> RosterRow | None:
    before = len(problems.items)
    data: dict[str, Any] = {name: values.get(name, "") for name in _TEXT_FIELDS}
    data["birth_date"] = parse_iso_date(values["birth_date"], line, "birth_date", problems)
    sex = _SEXES.get(values["sex"].lower())
    if sex is None:
        problems.add(line, "sex", "Use female, male, other or unknown (or F, M, O, U).")
    data["sex"] = sex or ""
    data["coverage"] = values.get("coverage", "").lower() or Patient.Coverage.MEDICARE_FFS
    qmb = values.get("qmb", "").lower()
    if qmb not in _YES | _NO:
        problems.add(line, "qmb", "Use yes or no.")
    data["qmb"] = qmb in _YES
    username = values.get("coordinator", "")
    if username:
        if username in coordinators:
            data["coordinator"] = coordinators[username]
        else:
            problems.add(
                line, "coordinator", f"No member of this practice has username {username!r}."
            )
    conditions = _parse_conditions(ctx, line, values.get("conditions", ""), now, problems)
    if data["birth_date"] is not None and sex is not None:
        try:
            build_patient(ctx=ctx, data=data, now=now)
        except ValidationError as exc:
            problems.add_error(line, exc)
    else:
        # Still check the other fields, so one pass reports everything wrong with the row.
        try:
            build_patient(
                ctx=ctx,
                data={**data, "birth_date": date(1950, 1, 1), "sex": "unknown"},
                now=now,
            )
        except ValidationError as exc:
            problems.add_error(line, exc)
    if len(problems.items) > before:
        return None
    return RosterRow(line=line, patient=data, conditions=conditions)


def _parse_conditions(
    ctx: PracticeContext, line: int, raw: str, now: datetime, problems: _Problems
) -> tuple[tuple[str, date | None], ...]:
    today = local_today(ctx.practice, now)
    found: list[tuple[str, date | None]] = []
    for item in raw.split(";"):
        item = item.strip()
        if not item:
            continue
        code_text, _, onset_text = item.partition(":")
        code = normalize_icd10(code_text)
        problem = icd10_problem(code)
        if problem:
            problems.add(line, "conditions", problem)
            continue
        onset_on = None
        if onset_text.strip():
            onset_on = parse_iso_date(onset_text.strip(), line, "conditions", problems)
            if onset_on is not None and onset_on > today:
                problems.add(line, "conditions", f"The onset of {code} is in the future.")
        if any(code == seen for seen, _ in found):
            problems.add(line, "conditions", f"{code} is listed twice.")
            continue
        found.append((code, onset_on))
    return tuple(found)
