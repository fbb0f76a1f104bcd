"""Frozen results of one patient-month: billable lines, flags and per-program summaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from careledger.rules.fastinit import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class BillableLine:
    """One code to bill, with its units, date of service and supporting evidence."""

    code: str
    units: int
    dos: date
    program: str
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape of the scenarios README."""
        return {
            "code": self.code,
            "units": self.units,
            "dos": self.dos.isoformat(),
            "program": self.program,
            "evidence": list(self.evidence),
        }


@fast_init
@dataclass(frozen=True, slots=True)
class Flag:
    """A diagnostic a biller can act on; ``rule_id`` cites cms-rules-2026.md."""

    code: str
    program: str | None
    message: str
    rule_id: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape of the scenarios README."""
        return {
            "code": self.code,
            "program": self.program,
            "message": self.message,
            "rule": self.rule_id,
        }


@fast_init
@dataclass(frozen=True, slots=True)
class NextThreshold:
    """The next code a program can unlock and what it still needs."""

    code: str
    minutes_needed: int | None = None
    reading_days_needed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict, leaving out the measure that does not apply."""
        out: dict[str, Any] = {"code": self.code}
        if self.minutes_needed is not None:
            out["minutes_needed"] = self.minutes_needed
        if self.reading_days_needed is not None:
            out["reading_days_needed"] = self.reading_days_needed
        return out


@fast_init
@dataclass(frozen=True, slots=True)
class ProgramSummary:
    """What a live dashboard shows for one program in the month."""

    program: str
    minutes: int
    interactive_contact: bool
    reading_days: int | None = None
    next_threshold: NextThreshold | None = None
    next_device_threshold: NextThreshold | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (API.md month view)."""
        return {
            "minutes": self.minutes,
            "interactive_contact": self.interactive_contact,
            "reading_days": self.reading_days,
            "next_threshold": self.next_threshold.as_dict() if self.next_threshold else None,
            "next_device_threshold": (
                self.next_device_threshold.as_dict() if self.next_device_threshold else None
            ),
        }


@fast_init
@dataclass(frozen=True, slots=True)
class MonthResult:
    """The engine's decision for one patient-month."""

    lines: tuple[BillableLine, ...]
    flags: tuple[Flag, ...]
    minutes_by_program: Mapping[str, int]
    programs: Mapping[str, ProgramSummary]
    rule_set: str
    service_month: str = ""
    sources: tuple[str, ...] = field(default=())

    @property
    def flag_codes(self) -> frozenset[str]:
        """Return the set of flag codes raised."""
        return frozenset(flag.code for flag in self.flags)

    def as_dict(self) -> dict[str, Any]:
        """Return the output of ``careledger evaluate`` (scenarios README)."""
        return {
            "service_month": self.service_month,
            "lines": [line.as_dict() for line in self.lines],
            "flags": [flag.as_dict() for flag in self.flags],
            "minutes_by_program": dict(self.minutes_by_program),
            "next_threshold": {
                program: summary.next_threshold.as_dict() if summary.next_threshold else None
                for program, summary in self.programs.items()
            },
            "programs": {program: s.as_dict() for program, s in self.programs.items()},
            "rule_set": self.rule_set,
        }
