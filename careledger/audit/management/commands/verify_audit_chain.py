"""careledger verify-audit-chain [--practice SLUG]: walk the hash chain, report the first break."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from careledger.audit.chain import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain in id order. Prints a one-line summary and exits 0 "
        "when intact; names the first broken link (changed, deleted or re-ordered row) and "
        "exits 1 otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--practice",
            metavar="SLUG",
            help="check only this practice's rows (each against its predecessor in the log)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        practice_id, scope = None, ""
        if options["practice"]:
            # By name, not import: the audit app sits below accounts.
            practice_model = apps.get_model("accounts", "Practice")
            found = practice_model.objects.filter(slug=options["practice"]).first()
            if found is None:
                raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
            practice_id, scope = found.pk, f"practice {found.slug}"
        report = verify_chain(practice_id=practice_id)
        if not report.intact:
            self.stderr.write(report.summary(scope))
            raise SystemExit(1)
        self.stdout.write(report.summary(scope))
