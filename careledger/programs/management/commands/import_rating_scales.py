"""``careledger import-rating-scales FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.RATING_SCALES`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import RATING_SCALES
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import validated rating scales from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = RATING_SCALES
    user_help = "the member the rating scales are recorded by"
