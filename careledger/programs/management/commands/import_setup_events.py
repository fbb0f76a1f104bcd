"""``careledger import-setup-events FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.SETUP_EVENTS`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import SETUP_EVENTS
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import RPM/RTM set-up and education events from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = SETUP_EVENTS
    user_help = "the member the set-up events are recorded by"
