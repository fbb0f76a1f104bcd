"""The program modules, listed once in the order the engine runs them (STYLE 5)."""

from __future__ import annotations

from collections.abc import Callable

from careledger.rules.context import MonthContext
from careledger.rules.programs import apcm, bhi, ccm, cocm, pcm, rpm, rtm
from careledger.rules.programs.common import ProgramOutcome

Evaluator = Callable[[MonthContext], ProgramOutcome]

PROGRAM_EVALUATORS: tuple[tuple[str, Evaluator], ...] = (
    ("APCM", apcm.evaluate),
    ("CCM", ccm.evaluate),
    ("PCM", pcm.evaluate),
    ("RPM", rpm.evaluate),
    ("RTM", rtm.evaluate),
    ("BHI", bhi.evaluate),
    ("CoCM", cocm.evaluate),
)

__all__ = ["PROGRAM_EVALUATORS", "Evaluator", "ProgramOutcome"]
