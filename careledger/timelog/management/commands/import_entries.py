"""``careledger import-entries FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``.

The columns are documented in ``careledger.timelog.importer``; a sample file ships as
``careledger/demo/samples/time_entries.csv``.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import Any

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.lib.csvcommand import CsvImportCommand
from careledger.timelog.importer import COLUMN_GUIDE, ImportReport, decode_entries, import_entries

COLUMN_HELP = "\n".join(
    (
        "columns (header row, any order, UTF-8 CSV with or without BOM):",
        *(
            textwrap.fill(
                meaning,
                width=88,
                initial_indent=f"  {name:<11} {required:<12} ",
                subsequent_indent=" " * 27,
            )
            for name, required, meaning in COLUMN_GUIDE
        ),
        "",
        "Times are in the practice's zone. In the repeated hour when clocks go back a time",
        "means its first occurrence; a time in the spring-forward gap is an error. Every row",
        "is validated (overlaps included, also between rows of the file); any problem stores",
        "nothing. Exit code 2 on bad input.",
    )
)


class Command(CsvImportCommand):
    help = (
        "Import time entries from a spreadsheet (CSV): every row is validated first and the "
        "file is stored all or nothing. Exit code 2 on bad input."
    )
    permission = "time.import"
    who_may = "only managers and admins import time entries"
    file_help = "the entries, UTF-8 CSV with a header"
    user_help = (
        "the manager or admin the import is audited as (default: the system; each "
        "entry is then created by its staff member)"
    )
    columns_help = COLUMN_HELP

    def decode(self, content: bytes) -> str:
        return decode_entries(content)

    def run(
        self, *, ctx: PracticeContext, text: str, now: datetime, dry_run: bool, source: str
    ) -> ImportReport:
        return import_entries(ctx=ctx, text=text, now=now, dry_run=dry_run, source=source)

    def summary(self, report: Any, practice: Practice) -> str:
        entries = "entry" if report.entries_valid == 1 else "entries"
        if report.dry_run:
            return (
                f"dry run: {report.rows} rows are valid ({report.entries_valid} {entries}, "
                f"{report.minutes} minutes); nothing stored"
            )
        return (
            f"stored {report.entries_stored} {entries} ({report.minutes} minutes) "
            f"in {practice.slug}"
        )
