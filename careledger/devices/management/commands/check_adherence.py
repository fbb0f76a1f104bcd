"""``careledger check-adherence [--practice SLUG]``: raise no-reading alerts (run daily)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.devices.alerts import check_adherence


class Command(BaseCommand):
    help = "Raise an alert for each monitored patient with no automatic reading for 3 days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", metavar="SLUG", help="one practice (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        practices = Practice.objects.order_by("slug")
        if options["practice"]:
            practices = practices.filter(slug=options["practice"])
            if not practices.exists():
                raise CommandError(f"no practice with slug {options['practice']!r}", returncode=2)
        now = timezone.now()
        out = {}
        for practice in practices:
            result = check_adherence(practice=practice, now=now)
            out[practice.slug] = {"checked": result.checked, "raised": result.raised}
        self.stdout.write(json.dumps(out))
