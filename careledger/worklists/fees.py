"""What a code is worth: a dated fee table with its source, overridable per practice.

Amounts are CY2026 national non-facility payments where cms-rules-2026.md gives them (RPM-18:
vendor figures, not verified against the RVU file, confidence L). Every other code ships with
no amount; the practice fills in its own (an estimate) on the fee page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class FeeSchedule:
    id: str
    effective_on: date
    source: str
    amounts: dict[str, Decimal | None]


FEES_2026 = FeeSchedule(
    id="CY2026-national-non-facility",
    effective_on=date(2026, 1, 1),
    source="cms-rules-2026.md RPM-18 (vendor figures S38, not verified against the RVU file)",
    amounts={
        "99445": Decimal("47.43"),
        "99454": Decimal("47.00"),
        "99470": Decimal("26.00"),
        "99457": Decimal("52.00"),
        "99458": Decimal("41.00"),
        # No amount in the rules file: the practice enters its own estimate.
        **{
            code: None
            for code in (
                "99453",
                "99490",
                "99439",
                "99491",
                "99437",
                "99487",
                "99489",
                "99424",
                "99425",
                "99426",
                "99427",
                "98975",
                "98976",
                "98977",
                "98978",
                "98984",
                "98985",
                "98986",
                "98979",
                "98980",
                "98981",
                "99484",
                "99492",
                "99493",
                "99494",
                "G2214",
                "G0556",
                "G0557",
                "G0558",
                "G0568",
                "G0569",
                "G0570",
            )
        },
    },
)
SCHEDULES = (FEES_2026,)


def national_fee(code: str, on: date) -> Decimal | None:
    """Return the shipped amount for ``code`` on ``on`` (None when there is none)."""
    for schedule in sorted(SCHEDULES, key=lambda s: s.effective_on, reverse=True):
        if schedule.effective_on <= on:
            return schedule.amounts.get(code)
    return None
