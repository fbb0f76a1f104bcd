"""billing.csv: the columns of API.md exactly, UTF-8 without a BOM, formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from careledger.billing.exports.rows import line_row
from careledger.billing.models import BillingLine, BillingMonth

COLUMNS = (
    "patient_id",
    "mrn",
    "patient_name",
    "mbi",
    "program",
    "code",
    "units",
    "dos",
    "billing_npi",
    "rendering_npi",
    "pos",
    "diagnoses",
    "qmb",
    "status",
    "flags",
    "line_id",
)
# Reliability case 9: a spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Return the cell as text, prefixed with ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def billing_csv(billing_month: BillingMonth, lines: Iterable[BillingLine]) -> bytes:
    """Write the month's lines; the same lines give the same bytes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in lines:
        row = line_row(line, billing_month)
        writer.writerow([neutralise(row[column]) for column in COLUMNS])
    return out.getvalue().encode("utf-8")
