"""The dated rule sets, in one explicit registry (STYLE 4, 5)."""

from __future__ import annotations

from datetime import date

from careledger.rules.schedules.base import (
    DayBand,
    MidpointFamily,
    Policies,
    RuleSet,
    TimeFamily,
)
from careledger.rules.schedules.cms_pfs_2025 import CMS_PFS_2025
from careledger.rules.schedules.cms_pfs_2026 import CMS_PFS_2026

# Oldest first. A CMS change adds a schedule; it never edits last year's.
RULE_SETS: tuple[RuleSet, ...] = (CMS_PFS_2025, CMS_PFS_2026)


class UnknownRuleSetError(KeyError):
    """Raised for a rule-set id that is not in the registry (bad input)."""


def rule_set_by_id(rule_set_id: str) -> RuleSet:
    """Return the registered rule set with this id."""
    for rule_set in RULE_SETS:
        if rule_set.id == rule_set_id:
            return rule_set
    known = ", ".join(rs.id for rs in RULE_SETS)
    raise UnknownRuleSetError(f"unknown rule set {rule_set_id!r}; known: {known}")


def rule_set_in_force(on: date) -> RuleSet | None:
    """Return the rule set in force on a date, or None before the first one."""
    found: RuleSet | None = None
    for rule_set in RULE_SETS:
        if rule_set.effective_on <= on and (rule_set.ended_on is None or on <= rule_set.ended_on):
            found = rule_set
    return found


__all__ = [
    "RULE_SETS",
    "DayBand",
    "MidpointFamily",
    "Policies",
    "RuleSet",
    "TimeFamily",
    "UnknownRuleSetError",
    "rule_set_by_id",
    "rule_set_in_force",
]
