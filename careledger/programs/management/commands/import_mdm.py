"""``careledger import-mdm FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.COMPLEX_CCM`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import COMPLEX_CCM
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import complex-CCM decision making per patient-month from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = COMPLEX_CCM
    user_help = "the physician or QHP whose decision making this is"
