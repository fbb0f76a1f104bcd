"""``careledger import-patients FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``.

The columns are documented in ``careledger.patients.importer``; a sample roster ships as
``careledger/demo/samples/patients.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from careledger.accounts.access import ContextRefused, PracticeContext, command_context
from careledger.accounts.models import Practice
from careledger.lib.csvimport import refusal
from careledger.patients.importer import (
    RosterUnreadable,
    decode_roster,
    import_roster,
)


class Command(BaseCommand):
    help = (
        "Import a patient roster (patients and their conditions) from CSV: every row is "
        "validated first and the file is stored all or nothing. Exit code 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", help="the roster, UTF-8 CSV with a header")
        parser.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
        parser.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="the manager or admin the import is audited as (default: the system)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        ctx = self._context(practice, options["user"])
        try:
            text = decode_roster(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        except RosterUnreadable as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None

        report = import_roster(
            ctx=ctx, text=text, now=timezone.now(), dry_run=options["dry_run"], source=path.name
        )
        for problem in report.problems:
            self.stderr.write(
                f"{path} line {problem.line}, field {problem.field}: {problem.message}"
            )
        if not report.ok:
            raise CommandError(refusal(rows=report.rows, problems=report.problems), returncode=2)
        if report.dry_run:
            self.stdout.write(
                f"dry run: {report.rows} rows are valid ({report.rows} patients, "
                f"{report.conditions_found} conditions); nothing stored"
            )
        else:
            self.stdout.write(
                f"stored {report.patients_stored} patients, {report.conditions_stored} "
                f"conditions in {practice.slug}"
            )

    def _context(self, practice: Practice, username: str | None) -> PracticeContext:
        try:
            return command_context(
                practice,
                username,
                "patient.import",
                who_may="only managers and admins import rosters",
            )
        except ContextRefused as refused:
            raise CommandError(str(refused), returncode=2) from None
