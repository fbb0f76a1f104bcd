"""A fact the builder could not find holds the lines it could change (issue 9, item 8)."""

from __future__ import annotations

from datetime import date

from careledger.billing.decide import LineContext, review_reasons
from careledger.rules import BillableLine, Flag, MonthResult

CONTEXT = LineContext(
    diagnoses=("I10",), ordered=True, rendering_npi="1245319599", mbi="1EG4TE5MK73"
)


def _result(minutes: dict[str, int]) -> MonthResult:
    return MonthResult(lines=(), flags=(), minutes_by_program=minutes, programs={}, rule_set="x")


def _codes(line: BillableLine, notes: list[Flag], minutes: dict[str, int]) -> list[str]:
    reasons = review_reasons(line=line, result=_result(minutes), notes=notes, context=CONTEXT)
    return [reason["code"] for reason in reasons]


SETUP_UNKNOWN = Flag("FACT_UNKNOWN", "RPM", "RPM set-up event is not recorded.", "RPM-16")
MDM_UNKNOWN = Flag("FACT_UNKNOWN", "CCM", "complex_ccm.mdm is not recorded.", "CCM-2")
RPM_LINE = BillableLine("99454", 1, date(2026, 4, 30), "RPM")
CCM_LINE = BillableLine("99490", 1, date(2026, 4, 30), "CCM")


def test_a_missing_set_up_event_does_not_hold_the_device_supply_line() -> None:
    # RPM-16: it only keeps 99453 from being proposed; 99454 does not depend on it.
    assert _codes(RPM_LINE, [SETUP_UNKNOWN], {"RPM": 20}) == []


def test_unrecorded_mdm_never_holds_another_programs_lines() -> None:
    assert _codes(RPM_LINE, [MDM_UNKNOWN], {"RPM": 80, "CCM": 80}) == []


def test_unrecorded_mdm_holds_ccm_lines_only_from_60_minutes() -> None:
    assert _codes(CCM_LINE, [MDM_UNKNOWN], {"CCM": 59}) == []
    assert _codes(CCM_LINE, [MDM_UNKNOWN], {"CCM": 60}) == ["FACT_UNKNOWN"]
