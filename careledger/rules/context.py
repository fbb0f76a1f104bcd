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
from careledger.rules.fastinit import fast_init
from careledger.rules.results import Flag
from careledger.rules.schedules import Policies, RuleSet


@fast_init
@dataclass(frozen=True, slots=True)
class MonthContext:
    """Everything a program module reads: never the clock, never I/O."""

    facts: MonthFacts
    rule_set: RuleSet
    month_start_on: date
    month_end_on: date
    as_of: date | None
    segments_by_program: Mapping[str, tuple[Segment, ...]]
    # Derived once per month (program modules read them many times): the rule set's policies
    # and the last local date whose time and readings count (``as_of`` or the month end).
    policies: Policies
    last_counted_on: date

    def consent_for(self, program: str) -> date | None:
        """Return the documented consent date of a program, if any."""
        return self.facts.consent_on.get(program)


def build_context(
    facts: MonthFacts, rule_set: RuleSet, as_of: date | None
) -> tuple[MonthContext, tuple[Flag, ...]]:
    """Split entries at local midnight (P1), keep this month's parts and set aside entries
    tagged to several programs (P2)."""
    month_start_on = facts.month_start_on
    month_end_on = last_day_of_month(month_start_on)
    policies = rule_set.policies
    last_on = as_of if as_of is not None and as_of < month_end_on else month_end_on
    by_program: dict[str, list[Segment]] = {}
    flags: list[Flag] = []
    # Looked up even with no entries: an unknown zone is bad input and must raise.
    zone = practice_zone(facts.practice_timezone)
    entries = facts.time_entries
    if entries:
        split = policies.split_entries_at_local_midnight
        programs = facts.programs
        not_enrolled: dict[str, int] = {}
        for entry in entries:
            parts = split_at_local_midnight(entry, zone, split=split)
            if len(parts) == 1:  # the usual case, without building a filtered list
                if not month_start_on <= parts[0].local_on <= last_on:
                    continue
                segments = list(parts)
            else:
                segments = [
                    segment for segment in parts if month_start_on <= segment.local_on <= last_on
                ]
                if not segments:
                    continue
            program = entry.program
            if isinstance(program, tuple):
                # P2: never re-allocate; leave the entry out and ask for one program.
                flags.append(
                    Flag(
                        "TIME_ENTRY_MULTI_PROGRAM",
                        None,
                        f"Time entry {entry.entry_id or entry.start_at.isoformat()} is tagged "
                        f"to several programs ({', '.join(program)}); it was left out. Tag it "
                        "to exactly one program.",
                        "P2",
                    )
                )
                continue
            if program not in programs:
                not_enrolled[program] = not_enrolled.get(program, 0) + sum(
                    s.seconds for s in segments
                )
                continue
            found = by_program.get(program)
            if found is None:
                by_program[program] = segments
            else:
                found.extend(segments)
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
        facts,
        rule_set,
        month_start_on,
        month_end_on,
        as_of,
        {
            program: tuple(segs)
            if _in_time_order(segs)
            else tuple(sorted(segs, key=_segment_order))
            for program, segs in by_program.items()
        },
        policies,
        last_on,
    )
    return context, tuple(flags)


def _in_time_order(segments: list[Segment]) -> bool:
    """Return True when start instants strictly increase: then the stable sort by
    ``_segment_order`` (start instant first) would leave the list as it is."""
    previous = segments[0].started_at
    for segment in segments[1:]:
        if not previous < segment.started_at:
            return False
        previous = segment.started_at
    return True


def _segment_order(segment: Segment) -> tuple[object, ...]:
    entry = segment.entry
    return (segment.started_at, entry.entry_id, entry.kind, entry.role, segment.seconds)
