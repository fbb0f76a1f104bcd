"""``careledger import-apcm-attestations FILE.csv --practice SLUG --user USERNAME [--dry-run]``.

The columns are in ``careledger.programs.fact_imports.APCM_ATTESTATIONS`` and in ``--help``.
"""

from __future__ import annotations

from careledger.programs.fact_imports import APCM_ATTESTATIONS
from careledger.programs.management.commands._facts import FactImportCommand


class Command(FactImportCommand):
    help = (
        "Import APCM attestations from CSV (columns in --help); "
        "all or nothing. Exit code 2 on bad input."
    )
    kind = APCM_ATTESTATIONS
    user_help = "the biller, manager or admin the attestations are recorded by"
