"""Billing code constants with careledger's own short descriptions.

The descriptions are our plain-language summaries, not the AMA CPT descriptors (which are
licensed text and must not be copied here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    """A CPT or HCPCS code, the program it belongs to and our own short description."""

    code: str
    program: str
    description: str
    device: bool = False


CODES: tuple[Code, ...] = (
    # CCM-2
    Code("99490", "CCM", "CCM, first 20 clinical-staff minutes in the month"),
    Code("99439", "CCM", "CCM, each further 20 clinical-staff minutes"),
    Code("99491", "CCM", "CCM, first 30 minutes by the physician/QHP personally"),
    Code("99437", "CCM", "CCM, each further 30 physician/QHP minutes"),
    Code("99487", "CCM", "Complex CCM, first 60 clinical-staff minutes"),
    Code("99489", "CCM", "Complex CCM, each further 30 clinical-staff minutes"),
    # PCM-2
    Code("99424", "PCM", "PCM, first 30 physician/QHP minutes"),
    Code("99425", "PCM", "PCM, each further 30 physician/QHP minutes"),
    Code("99426", "PCM", "PCM, first 30 clinical-staff minutes"),
    Code("99427", "PCM", "PCM, each further 30 clinical-staff minutes"),
    # RPM-1
    Code("99453", "RPM", "RPM device set-up and patient education", device=True),
    Code("99445", "RPM", "RPM device supply, 2-15 reading days in 30 days", device=True),
    Code("99454", "RPM", "RPM device supply, 16-30 reading days in 30 days", device=True),
    Code("99470", "RPM", "RPM treatment management, first 10 minutes in the month"),
    Code("99457", "RPM", "RPM treatment management, first 20 minutes in the month"),
    Code("99458", "RPM", "RPM treatment management, each further 20 minutes"),
    # RTM-1
    Code("98975", "RTM", "RTM device set-up and patient education", device=True),
    Code("98976", "RTM", "RTM respiratory device supply, 16-30 days", device=True),
    Code("98977", "RTM", "RTM musculoskeletal device supply, 16-30 days", device=True),
    Code("98978", "RTM", "RTM CBT device supply, 16-30 days", device=True),
    Code("98984", "RTM", "RTM respiratory device supply, 2-15 days", device=True),
    Code("98985", "RTM", "RTM musculoskeletal device supply, 2-15 days", device=True),
    Code("98986", "RTM", "RTM CBT device supply, 2-15 days", device=True),
    Code("98979", "RTM", "RTM treatment management, first 10 minutes in the month"),
    Code("98980", "RTM", "RTM treatment management, first 20 minutes in the month"),
    Code("98981", "RTM", "RTM treatment management, each further 20 minutes"),
    # BHI-1, BHI-2
    Code("99484", "BHI", "General behavioral health integration, 20+ staff minutes"),
    Code("99492", "CoCM", "Collaborative care, first month (70-minute base)"),
    Code("99493", "CoCM", "Collaborative care, later month (60-minute base)"),
    Code("99494", "CoCM", "Collaborative care, each further 30 minutes"),
    Code("G2214", "CoCM", "Collaborative care, 30 minutes in a first or later month"),
    # APCM-1, APCM-4
    Code("G0556", "APCM", "APCM level 1: none or one chronic condition"),
    Code("G0557", "APCM", "APCM level 2: two or more chronic conditions"),
    Code("G0558", "APCM", "APCM level 3: two or more chronic conditions and QMB"),
    Code("G0568", "CoCM", "APCM add-on: collaborative care, first month"),
    Code("G0569", "CoCM", "APCM add-on: collaborative care, later month"),
    Code("G0570", "BHI", "APCM add-on: general behavioral health integration"),
)

BY_CODE: dict[str, Code] = {code.code: code for code in CODES}

# RPM-5: one device-supply biller per 30-day period.
DEVICE_SUPPLY_CODES: dict[str, frozenset[str]] = {
    "RPM": frozenset({"99445", "99454"}),
    "RTM": frozenset({"98976", "98977", "98978", "98984", "98985", "98986"}),
}
SETUP_CODES: dict[str, str] = {"RPM": "99453", "RTM": "98975"}

# APCM-3: codes the same practitioner may not bill in an APCM month (only CCM and PCM are
# programs of this engine; TCM, e-visits and consults are listed for claims review).
APCM_BUNDLED_CODES: frozenset[str] = frozenset(
    {"99437", "99439", "99487", "99489", "99490", "99491", "99424", "99425", "99426", "99427"}
    | {"99495", "99496", "99446", "99447", "99448", "99449", "99451", "99452"}
    | {"G2250", "G2251", "G2252", "98970", "98971", "98972", "99421", "99422", "99423"}
)

# Codes that exist only from CY2026 (RPM-1, RTM-1, APCM-4).
CODES_NEW_IN_2026: frozenset[str] = frozenset(
    {"99445", "99470", "98979", "98984", "98985", "98986", "G0568", "G0569", "G0570"}
)


def program_of(code: str) -> str | None:
    """Return the program a code belongs to, or None for codes outside the engine."""
    known = BY_CODE.get(code)
    return known.program if known else None


def describe(code: str) -> str:
    """Return our short description of a code."""
    known = BY_CODE.get(code)
    return known.description if known else code
