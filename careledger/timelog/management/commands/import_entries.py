"""``careledger import-entries FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``.

The columns are documented in ``careledger.timelog.importer``; a sample file ships as
``careledger/demo/samples/time_entries.csv``.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)
from django.utils import timezone

from careledger.accounts.access import ContextRefused, PracticeContext, command_context
from careledger.accounts.models import Practice
from careledger.lib.csvimport import refusal
from careledger.timelog.importer import (
    COLUMN_GUIDE,
    EntriesUnreadable,
    decode_entries,
    import_entries,
)

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


class _Formatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the column table's layout in ``--help``."""


class Command(BaseCommand):
    help = (
        "Import time entries from a spreadsheet (CSV): every row is validated first and the "
        "file is stored all or nothing. Exit code 2 on bad input."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("epilog", COLUMN_HELP)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", help="the entries, UTF-8 CSV with a header")
        parser.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
        parser.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="the manager or admin the import is audited as (default: the system; each "
            "entry is then created by its staff member)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        ctx = self._context(practice, options["user"])
        try:
            text = decode_entries(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        except EntriesUnreadable as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None

        report = import_entries(
            ctx=ctx, text=text, now=timezone.now(), dry_run=options["dry_run"], source=path.name
        )
        for problem in report.problems:
            self.stderr.write(
                f"{path} line {problem.line}, field {problem.field}: {problem.message}"
            )
        if not report.ok:
            raise CommandError(refusal(rows=report.rows, problems=report.problems), returncode=2)
        entries = "entry" if report.entries_valid == 1 else "entries"
        if report.dry_run:
            self.stdout.write(
                f"dry run: {report.rows} rows are valid ({report.entries_valid} {entries}, "
                f"{report.minutes} minutes); nothing stored"
            )
        else:
            self.stdout.write(
                f"stored {report.entries_stored} {entries} ({report.minutes} minutes) "
                f"in {practice.slug}"
            )

    def _context(self, practice: Practice, username: str | None) -> PracticeContext:
        try:
            return command_context(
                practice,
                username,
                "time.import",
                who_may="only managers and admins import time entries",
            )
        except ContextRefused as refused:
            raise CommandError(str(refused), returncode=2) from None
