"""``careledger import-patients FILE.csv --practice SLUG [--dry-run] [--user USERNAME]``.

The columns are documented in ``careledger.patients.importer``; a sample roster ships as
``careledger/demo/samples/patients.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice
from careledger.patients.importer import (
    ImportReport,
    RosterUnreadable,
    decode_roster,
    import_roster,
    system_context,
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
            raise CommandError(_refusal(report), returncode=2)
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
        if not username:
            return system_context(practice)
        membership = (
            Membership.objects.filter(
                practice=practice, user__username=username, is_active=True, user__is_active=True
            )
            .select_related("user", "practice")
            .first()
        )
        if membership is None:
            raise CommandError(f"{username!r} is not a member of {practice.slug}", returncode=2)
        ctx = PracticeContext(user=membership.user, membership=membership, source_ip=None)
        if not ctx.may("patient.import"):
            raise CommandError(
                f"{username!r} is a {membership.role}; only managers and admins import rosters",
                returncode=2,
            )
        return ctx


def _refusal(report: ImportReport) -> str:
    rows = "row has" if report.bad_rows == 1 else "rows have"
    if report.bad_rows == 0 or any(p.line == 1 for p in report.problems):
        return f"stored 0 rows: the file cannot be imported ({len(report.problems)} problems)"
    return f"stored 0 of {report.rows} rows: {report.bad_rows} {rows} errors"
