"""``careledger close-month YYYY-MM --practice SLUG``: close a month and print what was stored.

Prints only JSON to stdout; messages go to stderr. Bad input (an unknown practice, a malformed
month, a month that is already approved) exits 2.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.billing.close import MonthAlreadyApproved, close_month
from careledger.billing.months import parse_month

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Close a billing month for a practice: compute and store its lines."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("month", help="YYYY-MM, in the practice's time zone")
        parser.add_argument("--practice", required=True, help="practice slug")

    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(
                f"--practice: no practice {options['practice']!r}", returncode=BAD_INPUT
            )
        try:
            month = parse_month(options["month"], practice.timezone)
        except ValueError as error:
            raise CommandError(f"month: {error}", returncode=BAD_INPUT) from None
        now = timezone.now()
        if month.starts_at > now:
            raise CommandError(f"month: {month.label} has not started yet", returncode=BAD_INPUT)
        try:
            summary = close_month(practice=practice, month=month, actor=None, now=now)
        except MonthAlreadyApproved as error:
            raise CommandError(f"month: {error}", returncode=BAD_INPUT) from None
        self.stderr.write(
            f"Closed {month.label} for {practice.slug}: {sum(summary.by_status.values())} lines."
        )
        self.stdout.write(json.dumps(summary.as_dict(), indent=2, sort_keys=True))
