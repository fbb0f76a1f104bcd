"""CMS-PFS-2026: the CY2026 Physician Fee Schedule rules in force from 2026-01-01.

Sources: cms-rules-2026.md (S1 Rimidi 2026 PFS, S2 90 FR 49266, S10/S13 Prevounce, S11 AAPC,
S12 FairPath CR 14250, S16 CMS CCM FAQ, S23 NGS PCM, S24 CY2017 PFS, S25 Mirah/MICMT,
S26 AAFP APCM, S28 2026 HCPCS descriptors, S29 FairPath APCM add-on, S30 CodingIntel FQ-1).
"""

from __future__ import annotations

from datetime import date

from careledger.rules.schedules.base import (
    DayBand,
    MidpointFamily,
    Policies,
    RuleSet,
    TimeFamily,
)

# Codes available before any rule set in this repository carry the set's first day.
_LEGACY_ON = date(2025, 1, 1)
_NEW_IN_2026_ON = date(2026, 1, 1)

_LEGACY_CODES = (
    *("99490", "99439", "99491", "99437", "99487", "99489"),  # CCM-2
    *("99424", "99425", "99426", "99427"),  # PCM-2
    *("99453", "99454", "99457", "99458"),  # RPM-1
    *("98975", "98976", "98977", "98978", "98980", "98981"),  # RTM-1
    *("99484", "99492", "99493", "99494", "G2214"),  # BHI-1, BHI-2
    *("G0556", "G0557", "G0558"),  # APCM-1, effective 2025-01-01
)
# RPM-1, RTM-1, APCM-4: new for CY2026.
_NEW_CODES = ("99445", "99470", "98979", "98984", "98985", "98986", "G0568", "G0569", "G0570")

CODE_EFFECTIVE_ON = {code: _LEGACY_ON for code in _LEGACY_CODES} | {
    code: _NEW_IN_2026_ON for code in _NEW_CODES
}

CCM_STAFF = TimeFamily("CCM clinical staff", "99490", 20, "99439", 20, rule_id="CCM-2")
CCM_PHYSICIAN = TimeFamily("CCM physician/QHP", "99491", 30, "99437", 30, rule_id="CCM-2")
CCM_COMPLEX = TimeFamily("complex CCM", "99487", 60, "99489", 30, rule_id="CCM-2")
PCM_PHYSICIAN = TimeFamily("PCM physician/QHP", "99424", 30, "99425", 30, rule_id="PCM-2")
PCM_STAFF = TimeFamily("PCM clinical staff", "99426", 30, "99427", 30, rule_id="PCM-2")
BHI = TimeFamily("general BHI", "99484", 20, rule_id="BHI-1")
# BHI-2: CPT midpoint table for CoCM.
COCM_INITIAL = MidpointFamily("CoCM first month", "99492", 70, 36, "99494", 30, 16)
COCM_SUBSEQUENT = MidpointFamily("CoCM later month", "99493", 60, 31, "99494", 30, 16)

CMS_PFS_2026 = RuleSet(
    id="CMS-PFS-2026",
    effective_on=date(2026, 1, 1),
    ended_on=None,
    sources=(
        "CY2026 PFS final rule, 90 FR 49266 (FR Doc 2025-19787), as quoted by S1, S10, S11, S33",
        "cms-rules-2026.md sections 1-11 (rule IDs cited in each flag)",
    ),
    code_effective_on=CODE_EFFECTIVE_ON,
    ccm_staff=CCM_STAFF,
    ccm_physician=CCM_PHYSICIAN,
    ccm_complex=CCM_COMPLEX,
    pcm_physician=PCM_PHYSICIAN,
    pcm_staff=PCM_STAFF,
    # RPM-3: 10-19 minutes -> 99470; 20+ -> 99457 + each further full 20 -> 99458.
    rpm_treatment=TimeFamily(
        "RPM treatment management", "99457", 20, "99458", 20, "99470", 10, rule_id="RPM-3"
    ),
    # RTM-1: 98979 for 10-19 minutes, 98980 at 20, 98981 each further 20.
    rtm_treatment=TimeFamily(
        "RTM treatment management", "98980", 20, "98981", 20, "98979", 10, rule_id="RTM-1"
    ),
    bhi=BHI,
    cocm_initial=COCM_INITIAL,
    cocm_subsequent=COCM_SUBSEQUENT,
    cocm_short_code="G2214",
    cocm_short_midpoint_minutes=16,
    # RPM-1, RPM-2: 99445 for 2-15 days, 99454 for 16-30 days.
    rpm_supply=(DayBand("99445", 2, 15), DayBand("99454", 16, 30)),
    # RTM-1: 98984-98986 for 2-15 days, 98976-98978 for 16-30 days.
    rtm_supply={
        "respiratory": (DayBand("98984", 2, 15), DayBand("98976", 16, 30)),
        "musculoskeletal": (DayBand("98985", 2, 15), DayBand("98977", 16, 30)),
        "cbt": (DayBand("98986", 2, 15), DayBand("98978", 16, 30)),
    },
    # RPM-16 (L): the 2026 set-up day threshold is unconfirmed; configured at the 2-day
    # minimum that makes device supply billable with 99445.
    setup_min_days=2,
    ccm_min_chronic_conditions=2,
    apcm_codes=("G0556", "G0557", "G0558"),
    # APCM-4: G0568 first-month CoCM, G0569 later-month CoCM, G0570 general BHI.
    apcm_bh_addons={"CoCM_initial": "G0568", "CoCM_subsequent": "G0569", "BHI": "G0570"},
    # CCM-2: 99439 at most 2 units. RPM-9, PCM-2: other caps come from the MUE file.
    unit_caps={"99439": 2},
    # FQ-1, P11: G0511 is not valid in 2026.
    g0511_optional_through=None,
    policies=Policies(),
)
