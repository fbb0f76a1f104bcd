"""CMS-PFS-2025: the CY2025 Physician Fee Schedule rules, in force 2025-01-01 to 2025-12-31.

Differences from CY2026 (cms-rules-2026.md RPM-1, RTM-1, APCM-4, FQ-1): no 99445, 99470,
98979, 98984-98986 or G0568-G0570; device supply (99454, 98976-98978) needs 16 reading days;
G0511 optional for RHC/FQHC through 2025-06-30 (S30; configurable, the end date is L).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from careledger.rules.schedules.base import DayBand, RuleSet
from careledger.rules.schedules.cms_pfs_2026 import CMS_PFS_2026, CODE_EFFECTIVE_ON

CMS_PFS_2025 = replace(
    CMS_PFS_2026,
    id="CMS-PFS-2025",
    effective_on=date(2025, 1, 1),
    ended_on=date(2025, 12, 31),
    sources=(
        "CY2025 PFS final rule as summarised in cms-rules-2026.md (S6, S26, S27, S30)",
        "cms-rules-2026.md RPM-1/RTM-1 (codes new for 2026 are absent here)",
    ),
    code_effective_on={
        code: first_on
        for code, first_on in CODE_EFFECTIVE_ON.items()
        if first_on < date(2026, 1, 1)
    },
    # RPM-3 before 2026: no 99470 band.
    rpm_treatment=replace(CMS_PFS_2026.rpm_treatment, short_code=None, short_minutes=None),
    rtm_treatment=replace(CMS_PFS_2026.rtm_treatment, short_code=None, short_minutes=None),
    rpm_supply=(DayBand("99454", 16, 30),),
    rtm_supply={
        "respiratory": (DayBand("98976", 16, 30),),
        "musculoskeletal": (DayBand("98977", 16, 30),),
        "cbt": (DayBand("98978", 16, 30),),
    },
    # RPM-16: the pre-2026 sources give 16 days for 99453.
    setup_min_days=16,
    apcm_bh_addons=None,
    g0511_optional_through=date(2025, 6, 30),
)

__all__ = ["CMS_PFS_2025", "RuleSet"]
