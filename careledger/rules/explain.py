"""Write a plain-language account of a month's decision for a biller or an auditor."""

from __future__ import annotations

from careledger.rules.codes import describe
from careledger.rules.results import MonthResult, ProgramSummary


def explain(result: MonthResult) -> str:
    """Return the decision as text: what is billed and why, what is not and why not."""
    out = [f"Patient-month {result.service_month}, evaluated under {result.rule_set}."]
    out.append("")
    if result.lines:
        out.append("Billable:")
        for line in result.lines:
            out.append(
                f"  {line.code} x{line.units}, date of service {line.dos.isoformat()}: "
                f"{describe(line.code)} ({line.program})."
            )
            out.extend(f"      evidence: {item}" for item in line.evidence)
    else:
        out.append("Nothing is billable this month.")
    if result.flags:
        out.append("")
        out.append("Notes and reasons:")
        for flag in result.flags:
            program = f"[{flag.program}] " if flag.program else ""
            out.append(f"  {program}{flag.code} (rule {flag.rule_id}): {flag.message}")
    if result.programs:
        out.append("")
        out.append("Programs:")
        out.extend(f"  {_program_line(summary)}" for summary in result.programs.values())
    return "\n".join(out) + "\n"


def _program_line(summary: ProgramSummary) -> str:
    parts = [
        f"{summary.program}: {summary.minutes} countable minutes",
        "live contact: yes" if summary.interactive_contact else "live contact: no",
    ]
    if summary.reading_days is not None:
        parts.append(f"{summary.reading_days} reading days in the device period")
    for threshold in (summary.next_threshold, summary.next_device_threshold):
        if threshold is None:
            continue
        if threshold.minutes_needed is not None:
            parts.append(f"next: {threshold.code} needs {threshold.minutes_needed} more minutes")
        elif threshold.reading_days_needed is not None:
            parts.append(
                f"next: {threshold.code} needs {threshold.reading_days_needed} more reading days"
            )
    return "; ".join(parts) + "."
