"""Check the identifiers an 837P and a Medicare record need: NPI, MBI, ICD-10-CM, time zones."""

from __future__ import annotations

import re
import warnings
import zoneinfo
from functools import cache

# NPI: 10 digits, the last a Luhn check digit computed over "80840" + the first nine digits
# (CMS, "Requirements for NPI check digit", ISO standard 7812).
_NPI_PREFIX = "80840"


def npi_problem(value: str) -> str | None:
    """Return why ``value`` is not a valid NPI, or None when it is."""
    if not re.fullmatch(r"\d{10}", value or ""):
        return "An NPI is exactly 10 digits."
    digits = [int(c) for c in _NPI_PREFIX + value]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    if total % 10 != 0:
        return "The NPI check digit does not match (Luhn check with prefix 80840)."
    return None


# MBI: 11 characters, CMS "Understanding the Medicare Beneficiary Identifier format".
# Letters exclude S, L, O, I, B and Z.
_A = "ACDEFGHJKMNPQRTUVWXY"
_N = "0123456789"
_AN = _A + _N
_MBI_POSITIONS = ("123456789", _A, _AN, _N, _A, _AN, _N, _A, _A, _N, _N)


def normalize_mbi(value: str) -> str:
    """Upper-case an MBI and drop the dashes people type for readability."""
    return (value or "").replace("-", "").replace(" ", "").upper()


def mbi_problem(value: str) -> str | None:
    """Return why ``value`` is not a valid Medicare Beneficiary Identifier, or None."""
    mbi = normalize_mbi(value)
    if len(mbi) != 11:
        return "An MBI has 11 characters (for example 1EG4-TE5-MK73)."
    for position, (char, allowed) in enumerate(zip(mbi, _MBI_POSITIONS, strict=True), start=1):
        if char not in allowed:
            return f"Character {position} of the MBI ({char!r}) is not allowed there."
    return None


def normalize_icd10(value: str) -> str:
    """Return an ICD-10-CM code in its dotted, upper-case form (E119 -> E11.9)."""
    code = (value or "").strip().upper().replace(".", "")
    if len(code) > 3:
        code = code[:3] + "." + code[3:]
    return code


@cache
def _icd() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def icd10_problem(value: str) -> str | None:
    """Return why ``value`` is not a billable ICD-10-CM code in the shipped code set, or None."""
    code = normalize_icd10(value)
    icd = _icd()
    if not code or not icd.is_valid_item(code):  # type: ignore[attr-defined]
        return f"{code or 'An empty code'} is not an ICD-10-CM code."
    if not icd.is_leaf(code):  # type: ignore[attr-defined]
        return f"{code} is a category, not a billable code; choose a more specific code."
    return None


def icd10_description(value: str) -> str:
    """Return the code set's own description of an ICD-10-CM code."""
    return str(_icd().get_description(normalize_icd10(value)))  # type: ignore[attr-defined]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(value: str) -> str | None:
    """Return why ``value`` is not an IANA time zone name, or None."""
    if value not in _zones():
        return f"{value!r} is not an IANA time zone (for example America/Chicago)."
    return None
