"""The month being evaluated: facts, rule set, local month window and split time entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from careledger.rules.calendar import (
    Segment,
    last_day_of_month,
    practice_zone,
    split_at_local_midnight,
)
from careledger.rules.facts import MonthFacts
from careledger.rules.results import Flag
from careledger.rules.schedules import Policies, RuleSet


@dataclass(frozen=True, slots=True)
class MonthContext:
    """Everything a program module reads: never the clock, never I/O."""

    facts: MonthFacts
    rule_set: RuleSet
    month_start_on: date
    month_end_on: date
    as_of: date | None
    segments_by_program: Mapping[str, tuple[Segment, ...]]

    @property
    def policies(self) -> Policies:
        """Return the engine policies of the rule set."""
        return self.rule_set.policies

    @property
    def last_counted_on(self) -> date:
        """Return the last local date whose time and readings count (``as_of`` or month end)."""
        if self.as_of is not None and self.as_of < self.month_end_on:
            return self.as_of
        return self.month_end_on

    def consent_for(self, program: str) -> date | None:
        """Return the documented consent date of a program, if any."""
        return self.facts.consent_on.get(program)


def build_context(
    facts: MonthFacts, rule_set: RuleSet, as_of: date | None
) -> tuple[MonthContext, tuple[Flag, ...]]:
    """Split entries at local midnight (P1), keep this month's parts and set aside entries
    tagged to several programs (P2)."""
    month_end_on = last_day_of_month(facts.month_start_on)
    zone = practice_zone(facts.practice_timezone)
    split = rule_set.policies.split_entries_at_local_midnight
    last_on = as_of if as_of is not None and as_of < month_end_on else month_end_on
    by_program: dict[str, list[Segment]] = {}
    flags: list[Flag] = []
    not_enrolled: dict[str, int] = {}
    for entry in facts.time_entries:
        segments = [
            segment
            for segment in split_at_local_midnight(entry, zone, split=split)
            if facts.month_start_on <= segment.local_on <= last_on
        ]
        if not segments:
            continue
        if isinstance(entry.program, tuple):
            # P2: never re-allocate; leave the entry out and ask for one program.
            flags.append(
                Flag(
                    "TIME_ENTRY_MULTI_PROGRAM",
                    None,
                    f"Time entry {entry.entry_id or entry.start_at.isoformat()} is tagged to "
                    f"several programs ({', '.join(entry.program)}); it was left out. Tag it to "
                    "exactly one program.",
                    "P2",
                )
            )
            continue
        if entry.program not in facts.programs:
            not_enrolled[entry.program] = not_enrolled.get(entry.program, 0) + sum(
                s.seconds for s in segments
            )
            continue
        by_program.setdefault(entry.program, []).extend(segments)
    for program, seconds in sorted(not_enrolled.items()):
        flags.append(
            Flag(
                "TIME_FOR_PROGRAM_NOT_ENROLLED",
                program,
                f"{seconds // 60} minutes are tagged to {program}, which the patient is not "
                "enrolled in this month; they do not count.",
                "P2",
            )
        )
    context = MonthContext(
        facts=facts,
        rule_set=rule_set,
        month_start_on=facts.month_start_on,
        month_end_on=month_end_on,
        as_of=as_of,
        segments_by_program={
            program: tuple(sorted(segs, key=_segment_order)) for program, segs in by_program.items()
        },
    )
    return context, tuple(flags)


def _segment_order(segment: Segment) -> tuple[object, ...]:
    entry = segment.entry
    return (segment.started_at, entry.entry_id, entry.kind, entry.role, segment.seconds)
