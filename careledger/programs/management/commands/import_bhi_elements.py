"""``careledger import-bhi-elements FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.BHI_ELEMENTS`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import BHI_ELEMENTS
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import general-BHI service elements per patient-month from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = BHI_ELEMENTS
    user_help = "the member the elements are recorded by"
