"""Import other practitioners' claims from CSV: every row checked, stored all or nothing.

Columns (header row, any order): ``mrn``, ``practitioner``, ``code``, ``period_start_on``,
``period_end_on`` (required) and ``practitioner_npi`` (optional). Dates are YYYY-MM-DD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.lib.csvimport import (
    Problems,
    RowProblem,
    Unreadable,
    decode_csv,
    parse_iso_date,
    read_table,
)
from careledger.patients.models import Patient
from careledger.programs.models import OtherClaim
from careledger.programs.services import ClaimData, check_claim, record_other_claim

CLAIM_COLUMNS = (
    "mrn",
    "practitioner",
    "practitioner_npi",
    "code",
    "period_start_on",
    "period_end_on",
)
CLAIM_REQUIRED = ("mrn", "practitioner", "code", "period_start_on", "period_end_on")
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024


class ClaimsUnreadable(Unreadable):
    """The file is not a UTF-8 CSV."""


def decode_claims(content: bytes) -> str:
    return decode_csv(content, max_bytes=MAX_BYTES, error=ClaimsUnreadable)


@dataclass
class ClaimsReport:
    rows: int = 0
    stored: int = 0
    dry_run: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def import_other_claims(
    *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool = False
) -> ClaimsReport:
    """Check every row, then store them all (one audit event each) or none."""
    problems = Problems()
    table = read_table(
        text, columns=CLAIM_COLUMNS, required=CLAIM_REQUIRED, max_rows=MAX_ROWS, problems=problems
    )
    report = ClaimsReport(rows=table.count, dry_run=dry_run)
    patients = {
        p.mrn: p
        for p in Patient.objects.filter(
            practice=ctx.practice, mrn__in={row["mrn"] for _, row in table.rows}
        )
    }
    valid: list[tuple[Patient, ClaimData]] = []
    for line, row in table.rows:
        patient = patients.get(row["mrn"])
        if patient is None:
            problems.add(line, "mrn", f"No patient with MRN {row['mrn']!r} in this practice.")
        start = parse_iso_date(row["period_start_on"], line, "period_start_on", problems)
        end = parse_iso_date(row["period_end_on"], line, "period_end_on", problems)
        if start is None or end is None:
            continue
        data = ClaimData(
            practitioner=row["practitioner"],
            code=row["code"],
            period_start_on=start,
            period_end_on=end,
            practitioner_npi=row.get("practitioner_npi", ""),
        )
        try:
            data = check_claim(data)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    problems.add(line, name, message)
            continue
        if patient is not None:
            valid.append((patient, data))
    report.problems = problems.items
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        for patient, data in valid:
            record_other_claim(
                ctx=ctx, patient=patient, data=data, now=now, source=OtherClaim.Source.IMPORT
            )
    report.stored = len(valid)
    return report
