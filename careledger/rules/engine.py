"""Evaluate one patient-month: the single entry point of the rules core."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from functools import lru_cache

from careledger.rules.conflicts import resolve_conflicts
from careledger.rules.context import MonthContext, build_context
from careledger.rules.facts import MonthFacts
from careledger.rules.programs import PROGRAM_EVALUATORS, Evaluator, ProgramOutcome
from careledger.rules.results import BillableLine, Flag, MonthResult, ProgramSummary
from careledger.rules.schedules import RuleSet, rule_set_by_id, rule_set_in_force

# The registry is a constant tuple, so the rule set in force is a pure function of the date.
_rule_set_in_force = lru_cache(maxsize=256)(rule_set_in_force)


@lru_cache(maxsize=256)
def _service_month(month_start_on: date) -> str:
    # Same text as MonthFacts.service_month, formatted once per month rather than per call.
    return f"{month_start_on.year:04d}-{month_start_on.month:02d}"


def evaluate_month(
    facts: MonthFacts, rule_set: RuleSet | str | None = None, *, as_of: date | None = None
) -> MonthResult:
    """Decide the billable lines of one patient-month.

    The month is evaluated under the rule set in force on its first day unless one is named.
    ``as_of`` (a local date) counts only time and readings up to that day, for live views.
    Raises ``UnknownRuleSetError`` only for an unknown rule-set id (bad input).
    """
    chosen = rule_set_by_id(rule_set) if isinstance(rule_set, str) else rule_set
    in_force = _rule_set_in_force(facts.month_start_on)
    flags: list[Flag] = []
    if chosen is None:
        if in_force is None:
            return MonthResult(
                lines=(),
                flags=(
                    Flag(
                        "NO_RULE_SET_IN_FORCE",
                        None,
                        f"No rule set is in force on {facts.month_start_on}; nothing is billed.",
                        "STYLE-4",
                    ),
                ),
                minutes_by_program={},
                programs={},
                rule_set="",
                service_month=_service_month(facts.month_start_on),
            )
        chosen = in_force
    elif in_force is None or chosen.id != in_force.id:
        flags.append(
            Flag(
                "RULE_SET_NOT_IN_FORCE",
                None,
                f"Evaluated under {chosen.id} as asked, although it is not the rule set in "
                f"force on {facts.month_start_on}.",
                "STYLE-4",
            )
        )
    ctx, context_flags = build_context(facts, chosen, as_of)
    flags.extend(context_flags)
    outcomes: dict[str, ProgramOutcome] = {}
    summaries: dict[str, ProgramSummary] = {}
    minutes_by_program: dict[str, int] = {}
    programs = facts.programs
    evaluators = _evaluators_for(programs) if type(programs) is tuple else _enrolled(programs)
    for program, evaluate in evaluators:
        outcome = evaluate(ctx)
        outcomes[program] = outcome
        summaries[program] = outcome.summary
        minutes_by_program[program] = outcome.summary.minutes
        flags.extend(outcome.flags)
    lines_by_program, conflict_flags = resolve_conflicts(ctx, outcomes)
    flags.extend(conflict_flags)
    lines: list[BillableLine] = []
    # ``outcomes`` is in PROGRAM_EVALUATORS order, and only evaluated programs have lines.
    for program in outcomes:
        found = lines_by_program.get(program)
        if found:
            lines.extend(found)
    lines = _apply_scope(ctx, lines, flags)
    if lines:
        lines = _apply_code_set(ctx, lines, flags)
    if facts.setting in ("fqhc", "rhc"):
        flags.extend(_setting_flags(ctx))
    return MonthResult(
        lines=tuple(lines),
        flags=tuple(flags),
        minutes_by_program=minutes_by_program,
        programs=summaries,
        rule_set=chosen.id,
        service_month=_service_month(facts.month_start_on),
        sources=chosen.sources,
    )


def _enrolled(programs: Collection[str]) -> tuple[tuple[str, Evaluator], ...]:
    """Return the evaluators of the enrolled programs, in PROGRAM_EVALUATORS order."""
    return tuple(
        (program, evaluate) for program, evaluate in PROGRAM_EVALUATORS if program in programs
    )


# Months enrol in a handful of program combinations: filter once per combination.
_evaluators_for = lru_cache(maxsize=256)(_enrolled)


def _apply_scope(
    ctx: MonthContext, lines: list[BillableLine], flags: list[Flag]
) -> list[BillableLine]:
    # Scope of cms-rules-2026.md: Medicare fee-for-service Part B only.
    medicare_ffs = ctx.facts.patient.medicare_ffs
    if medicare_ffs:
        return lines
    if medicare_ffs is None:
        flags.append(
            Flag(
                "FACT_UNKNOWN",
                None,
                "patient.medicare_ffs is not recorded; these rules apply only to Medicare "
                "fee-for-service, so nothing is billed.",
                "SCOPE",
            )
        )
    else:
        flags.append(
            Flag(
                "NOT_MEDICARE_FFS",
                None,
                "The patient is not in Medicare fee-for-service; these rules do not apply and "
                "no line is produced.",
                "SCOPE",
            )
        )
    return []


def _apply_code_set(
    ctx: MonthContext, lines: list[BillableLine], flags: list[Flag]
) -> list[BillableLine]:
    """Drop codes not in the rule set's code table on their date of service; cap units."""
    kept: list[BillableLine] = []
    rule_set = ctx.rule_set
    code_effective_on = rule_set.code_effective_on
    unit_caps = rule_set.unit_caps
    for line in lines:
        # Inlined RuleSet.code_in_effect (same test, without a method call per line).
        first_on = code_effective_on.get(line.code)
        if first_on is None or not first_on <= line.dos:
            flags.append(
                Flag(
                    "CODE_NOT_IN_EFFECT",
                    line.program,
                    f"{line.code} is not billable on {line.dos} under {ctx.rule_set.id}.",
                    ctx.rule_set.id,
                )
            )
            continue
        cap = unit_caps.get(line.code)
        if cap is not None and line.units > cap:
            flags.append(
                Flag(
                    "UNITS_CAPPED",
                    line.program,
                    f"{line.code} capped at {cap} units (configured unit cap).",
                    "RPM-9",
                )
            )
            line = BillableLine(line.code, cap, line.dos, line.program, line.evidence)
        kept.append(line)
    return kept


def _setting_flags(ctx: MonthContext) -> list[Flag]:
    # P11, FQ-1: G0511 is never produced; RHC/FQHC months bill the individual codes.
    if ctx.facts.setting not in ("fqhc", "rhc") or not ctx.facts.programs:
        return []
    optional_through = ctx.rule_set.g0511_optional_through
    if optional_through is None:
        return [
            Flag(
                "G0511_NOT_VALID_2026",
                None,
                "G0511 is not valid in 2026; this RHC/FQHC month bills the individual codes.",
                "FQ-1",
            )
        ]
    if ctx.month_start_on <= optional_through:
        message = (
            f"G0511 was optional through {optional_through}; careledger bills the individual "
            "codes instead (P11)."
        )
        return [Flag("G0511_OPTIONAL_NOT_PRODUCED", None, message, "P11")]
    return [
        Flag(
            "G0511_TRANSITION_ENDED",
            None,
            f"The G0511 transition ended {optional_through}; bill the individual codes.",
            "FQ-1",
        )
    ]
