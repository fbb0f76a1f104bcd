"""``careledger close-month YYYY-MM --practice SLUG``: close a month and print what was stored.

``--all-practices`` closes every practice (each in its own transaction, as one close is),
``--workers N`` in N processes on PostgreSQL; ``--dry-run`` closes and rolls back, printing what
would be stored. Prints only JSON to stdout (one practice: its summary; all practices: a list of
summaries, an approved month listed as skipped); messages go to stderr. Bad input (an unknown
practice, a malformed month, a month that is already approved for the one practice asked for,
more than one worker on SQLite) exits 2.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.billing.close_all import ParallelCloseRefused, close_practices
from careledger.billing.months import parse_month

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Close a billing month for a practice (or all): compute and store its lines."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("month", help="YYYY-MM, in the practice's time zone")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--practice", help="practice slug")
        which.add_argument(
            "--all-practices", action="store_true", help="close every practice of this database"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="close practices in this many processes (PostgreSQL only; default 1)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="compute and print; store nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers: must be 1 or more", returncode=BAD_INPUT)
        if options["all_practices"]:
            practices = list(Practice.objects.order_by("slug"))
        else:
            practice = Practice.objects.filter(slug=options["practice"]).first()
            if practice is None:
                raise CommandError(
                    f"--practice: no practice {options['practice']!r}", returncode=BAD_INPUT
                )
            practices = [practice]
        now = timezone.now()
        for practice in practices:
            try:
                month = parse_month(options["month"], practice.timezone)
            except ValueError as error:
                raise CommandError(f"month: {error}", returncode=BAD_INPUT) from None
            if month.starts_at > now:
                raise CommandError(
                    f"month: {month.label} has not started yet", returncode=BAD_INPUT
                )
        try:
            closed = close_practices(
                slugs=[p.slug for p in practices],
                month_label=options["month"],
                now=now,
                workers=options["workers"],
                dry_run=options["dry_run"],
            )
        except ParallelCloseRefused as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from None
        verb = "Would store" if options["dry_run"] else "Closed"
        for one in closed:
            if one.summary is None:
                if not options["all_practices"]:
                    raise CommandError(f"month: {one.skipped}", returncode=BAD_INPUT)
                self.stderr.write(f"Skipped {one.slug}: {one.skipped}")
                continue
            self.stderr.write(
                f"{verb} {options['month']} for {one.slug}: {one.summary['lines']} lines "
                f"({one.seconds:.1f} s)."
            )
        if options["all_practices"]:
            self.stdout.write(
                json.dumps([one.as_dict() for one in closed], indent=2, sort_keys=True)
            )
        else:
            self.stdout.write(json.dumps(closed[0].as_dict(), indent=2, sort_keys=True))
