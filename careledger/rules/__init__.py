"""careledger's billing rules: a pure functional core (standard library only).

``evaluate_month(facts)`` takes frozen ``MonthFacts`` and returns a frozen ``MonthResult``.
"""

from careledger.rules.engine import evaluate_month
from careledger.rules.facts import (
    ApcmRequirements,
    BhiServiceElements,
    ComplexCcm,
    DevicePeriod,
    MonthFacts,
    OtherClaim,
    PatientFacts,
    TimeEntry,
)
from careledger.rules.results import (
    BillableLine,
    Flag,
    MonthResult,
    NextThreshold,
    ProgramSummary,
)
from careledger.rules.schedules import RULE_SETS, UnknownRuleSetError, rule_set_by_id

__all__ = [
    "RULE_SETS",
    "ApcmRequirements",
    "BhiServiceElements",
    "BillableLine",
    "ComplexCcm",
    "DevicePeriod",
    "Flag",
    "MonthFacts",
    "MonthResult",
    "NextThreshold",
    "OtherClaim",
    "PatientFacts",
    "ProgramSummary",
    "TimeEntry",
    "UnknownRuleSetError",
    "evaluate_month",
    "rule_set_by_id",
]
