"""``careledger evaluate FILE.json [--rule-set ID] [--explain]``: run the rules engine on a file.

Reads one scenario (scenarios README format), prints the decision as JSON (or a plain-language
account with ``--explain``). Never touches the database. Bad input exits 2 with a message naming
the file and the field, never a traceback.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careledger.rules import evaluate_month
from careledger.rules.explain import explain
from careledger.rules.scenario import ScenarioError, parse_scenario
from careledger.rules.schedules import UnknownRuleSetError, rule_set_by_id

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Evaluate one patient-month scenario file with the billing rules engine."
    requires_system_checks: list[str] = []  # type: ignore[assignment]
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="scenario JSON file (one patient-month)")
        parser.add_argument("--rule-set", dest="rule_set", default=None, help="e.g. CMS-PFS-2025")
        parser.add_argument(
            "--explain", action="store_true", help="print a plain-language account instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        rule_set = None
        if options["rule_set"]:
            try:
                rule_set = rule_set_by_id(options["rule_set"])
            except UnknownRuleSetError as error:
                raise CommandError(
                    f"{path}: --rule-set: {error.args[0]}", returncode=BAD_INPUT
                ) from None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(
                f"{path}: cannot read file: {error.strerror}", returncode=BAD_INPUT
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path}: not valid JSON: {error}", returncode=BAD_INPUT) from None
        scenario_id = data.get("id") if isinstance(data, dict) else None
        name = f"{path} (scenario {scenario_id})" if scenario_id else str(path)
        try:
            facts = parse_scenario(data)
        except ScenarioError as error:
            raise CommandError(
                f"{name}: {error.field}: {error.message}", returncode=BAD_INPUT
            ) from None
        result = evaluate_month(facts, rule_set)
        if options["explain"]:
            self.stdout.write(explain(result), ending="")
        else:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
