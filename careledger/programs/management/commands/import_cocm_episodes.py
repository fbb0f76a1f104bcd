"""``careledger import-cocm-episodes FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.COCM_EPISODES`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import COCM_EPISODES
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import collaborative-care episodes from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = COCM_EPISODES
    user_help = "the member the episodes are recorded by"
