"""``careledger import-other-claims FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

Columns: mrn, practitioner, code, period_start_on, period_end_on (required), practitioner_npi.
Every row is checked first; any problem stores nothing and exits 2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.lib.csvcommand import CsvImportCommand
from careledger.programs.importer import ClaimsReport, decode_claims, import_other_claims


class Command(CsvImportCommand):
    help = (
        "Import other practitioners' claims (CSV: mrn, practitioner, code, period_start_on, "
        "period_end_on[, practitioner_npi]); all or nothing. Exit code 2 on bad input."
    )
    permission = "facts.import"
    who_may = "only billers, managers and admins import claims"
    user_required = True
    user_help = "the biller, manager or admin the claims are recorded by"

    def decode(self, content: bytes) -> str:
        return decode_claims(content)

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> ClaimsReport:
        return import_other_claims(ctx=ctx, text=text, now=now, dry_run=dry_run)

    def summary(self, report: Any, practice: Practice) -> str:
        if report.dry_run:
            return f"dry run: {report.rows} rows are valid; nothing stored"
        return f"stored {report.stored} claims in {practice.slug}"
