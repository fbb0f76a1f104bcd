"""X12 837P (005010X222A1) professional claims for a closed month, one transaction per practitioner.

A pure transformation (STYLE 12): values in, text out, no clock. Control numbers and dates come
from the billing month, so the same month gives the same bytes (reliability case 17). Delimiter
characters never reach an element (case 13). A draft month is a test interchange (ISA15 = T).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

ELEMENT = "*"
SEGMENT = "~"
COMPONENT = ":"
REPETITION = "^"
VERSION = "005010X222A1"
# Characters an element may carry: the X12 basic and extended sets less our delimiters.
_NOT_ALLOWED = re.compile(r"[^A-Z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")
_SPACES = re.compile(r"\s+")


def clean(value: object, *, max_length: int | None = None) -> str:
    """Uppercase, drop delimiters and other characters X12 cannot carry, squeeze spaces."""
    text = _NOT_ALLOWED.sub(" ", str(value or "").upper())
    text = _SPACES.sub(" ", text).strip()
    return text[:max_length].rstrip() if max_length else text


def digits(value: object) -> str:
    return re.sub(r"\D", "", str(value or ""))


def amount(value: Decimal) -> str:
    """Format money as X12 wants it: no trailing zeros, no exponent."""
    text = f"{value.quantize(Decimal('0.01')):f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return text or "0"


@dataclass(frozen=True)
class Party:
    name: str
    npi: str = ""
    first_name: str = ""


@dataclass(frozen=True)
class Address:
    line: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class Submitter:
    """The practice as submitter and billing provider, and its Medicare contractor."""

    name: str
    submitter_id: str
    billing_npi: str
    tax_id: str
    taxonomy_code: str
    address: Address
    phone: str
    payer_name: str
    payer_id: str


@dataclass(frozen=True)
class ServiceLine:
    code: str
    units: int
    dos: date
    charge: Decimal
    diagnoses: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    claim_id: str
    patient_last: str
    patient_first: str
    mbi: str
    birth_date: date
    sex: str
    address: Address | None
    place_of_service: str
    lines: tuple[ServiceLine, ...]

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """Return the claim's diagnoses: the union of its lines', first seen first, at most 12."""
        seen: list[str] = []
        for line in self.lines:
            for code in line.diagnoses:
                if code not in seen:
                    seen.append(code)
        return tuple(seen[:12])


@dataclass(frozen=True)
class PractitionerClaims:
    rendering: Party
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Interchange:
    submitter: Submitter
    control_number: int
    created_at: datetime
    test: bool
    groups: tuple[PractitionerClaims, ...] = field(default=())


def _segment(*elements: str) -> str:
    parts = list(elements)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()  # trailing empty elements are not sent
    return ELEMENT.join(parts) + SEGMENT


def _n4(address: Address) -> str:
    return _segment(
        "N4",
        clean(address.city, max_length=30),
        clean(address.state, max_length=2),
        digits(address.postal_code)[:9],
    )


def _sex(value: str) -> str:
    return {"female": "F", "male": "M"}.get(value, "U")


def _icd(code: str) -> str:
    return clean(code).replace(".", "")


def _transaction(interchange: Interchange, group: PractitionerClaims, number: int) -> list[str]:
    s = interchange.submitter
    st = f"{number:04d}"
    day = interchange.created_at.strftime("%Y%m%d")
    hhmm = interchange.created_at.strftime("%H%M")
    out = [
        _segment("ST", "837", st, VERSION),
        _segment("BHT", "0019", "00", f"{interchange.control_number}{number:04d}", day, hhmm, "CH"),
        # 1000A submitter, 1000B receiver
        _segment(
            "NM1",
            "41",
            "2",
            clean(s.name, max_length=60),
            "",
            "",
            "",
            "",
            "46",
            clean(s.submitter_id, max_length=80),
        ),
        _segment("PER", "IC", clean(s.name, max_length=60), "TE", digits(s.phone) or "0000000000"),
        _segment(
            "NM1",
            "40",
            "2",
            clean(s.payer_name, max_length=60),
            "",
            "",
            "",
            "",
            "46",
            clean(s.payer_id, max_length=80),
        ),
        # 2000A billing provider
        _segment("HL", "1", "", "20", "1"),
    ]
    if s.taxonomy_code:
        out.append(_segment("PRV", "BI", "PXC", clean(s.taxonomy_code, max_length=50)))
    out += [
        _segment(
            "NM1",
            "85",
            "2",
            clean(s.name, max_length=60),
            "",
            "",
            "",
            "",
            "XX",
            digits(s.billing_npi),
        ),
        _segment("N3", clean(s.address.line, max_length=55)),
        _n4(s.address),
        _segment("REF", "EI", digits(s.tax_id)),
    ]
    hl = 1
    for claim in group.claims:
        hl += 1
        out += [
            _segment("HL", str(hl), "1", "22", "0"),
            _segment("SBR", "P", "18", "", "", "", "", "", "", "MB"),
            _segment(
                "NM1",
                "IL",
                "1",
                clean(claim.patient_last, max_length=60),
                clean(claim.patient_first, max_length=35),
                "",
                "",
                "",
                "MI",
                clean(claim.mbi, max_length=80),
            ),
        ]
        if claim.address is not None and claim.address.line:
            out += [_segment("N3", clean(claim.address.line, max_length=55)), _n4(claim.address)]
        out += [
            _segment("DMG", "D8", claim.birth_date.strftime("%Y%m%d"), _sex(claim.sex)),
            _segment(
                "NM1",
                "PR",
                "2",
                clean(s.payer_name, max_length=60),
                "",
                "",
                "",
                "",
                "PI",
                clean(s.payer_id, max_length=80),
            ),
        ]
        diagnoses = claim.diagnoses
        total = sum((line.charge for line in claim.lines), Decimal(0))
        out += [
            _segment(
                "CLM",
                clean(claim.claim_id, max_length=38),
                amount(total),
                "",
                "",
                COMPONENT.join((claim.place_of_service, "B", "1")),
                "Y",
                "A",
                "Y",
                "Y",
            ),
            _segment(
                "HI",
                *(
                    COMPONENT.join(("ABK" if i == 0 else "ABF", _icd(code)))
                    for i, code in enumerate(diagnoses)
                ),
            ),
            # 2310B rendering provider: the practitioner, the practice being the billing provider.
            _segment(
                "NM1",
                "82",
                "1",
                clean(group.rendering.name, max_length=60),
                clean(group.rendering.first_name, max_length=35),
                "",
                "",
                "",
                "XX",
                digits(group.rendering.npi),
            ),
        ]
        for index, line in enumerate(claim.lines, start=1):
            pointers = [str(diagnoses.index(c) + 1) for c in line.diagnoses if c in diagnoses][:4]
            out += [
                _segment("LX", str(index)),
                _segment(
                    "SV1",
                    COMPONENT.join(("HC", clean(line.code))),
                    amount(line.charge),
                    "UN",
                    str(line.units),
                    "",
                    "",
                    COMPONENT.join(pointers or ["1"]),
                ),
                _segment("DTP", "472", "D8", line.dos.strftime("%Y%m%d")),
            ]
    out.append(_segment("SE", str(len(out) + 1), st))
    return out


def render_837p(interchange: Interchange) -> str:
    """Write the interchange: ISA, one GS, one ST per practitioner, GE, IEA."""
    s = interchange.submitter
    when = interchange.created_at
    control = f"{interchange.control_number:09d}"
    sender = clean(s.submitter_id, max_length=15).ljust(15)
    receiver = clean(s.payer_id, max_length=15).ljust(15)
    segments = [
        ELEMENT.join(
            (
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                sender,
                "ZZ",
                receiver,
                when.strftime("%y%m%d"),
                when.strftime("%H%M"),
                REPETITION,
                "00501",
                control,
                "0",
                "T" if interchange.test else "P",
                COMPONENT,
            )
        )
        + SEGMENT,
        _segment(
            "GS",
            "HC",
            sender.strip(),
            receiver.strip(),
            when.strftime("%Y%m%d"),
            when.strftime("%H%M"),
            str(interchange.control_number),
            "X",
            VERSION,
        ),
    ]
    for number, group in enumerate(interchange.groups, start=1):
        segments += _transaction(interchange, group, number)
    segments += [
        _segment("GE", str(len(interchange.groups)), str(interchange.control_number)),
        _segment("IEA", "1", control),
    ]
    return "\n".join(segments) + "\n"


def group_claims(
    rows: Iterable[tuple[Party, Claim]],
) -> tuple[PractitionerClaims, ...]:
    """Group claims by rendering practitioner, in the order first seen."""
    groups: dict[tuple[str, str, str], list[Claim]] = {}
    for party, claim in rows:
        groups.setdefault((party.npi, party.name, party.first_name), []).append(claim)
    return tuple(
        PractitionerClaims(Party(name=name, npi=npi, first_name=first), tuple(claims))
        for (npi, name, first), claims in groups.items()
    )


ChargeOf = Callable[[str, date], Decimal | None]


def no_charge(code: str, on: date) -> Decimal | None:
    return None
