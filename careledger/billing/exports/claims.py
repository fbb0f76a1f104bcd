"""Build the 837P values of a closed month from its stored lines (reads only)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from careledger.billing.exports.x12 import (
    Address,
    ChargeOf,
    Claim,
    Interchange,
    Party,
    ServiceLine,
    Submitter,
    group_claims,
    no_charge,
    render_837p,
)
from careledger.billing.models import BillingLine, BillingMonth
from careledger.billing.selectors import lines_of

DRAFT_CLAIMABLE = frozenset(
    {BillingLine.Status.PROPOSED, BillingLine.Status.NEEDS_REVIEW, BillingLine.Status.APPROVED}
)


def claimable(line: BillingLine, billing_month: BillingMonth) -> bool:
    """Tell whether a line goes on a claim: approved (or, in a draft, not held or removed)."""
    if not (line.diagnoses and line.rendering_npi and line.patient.mbi):
        return False  # needs review: a claim cannot be built without them
    if billing_month.approved:
        return line.status == BillingLine.Status.APPROVED
    return line.status in DRAFT_CLAIMABLE


def build_interchange(
    billing_month: BillingMonth, *, charge_of: ChargeOf = no_charge, batch: int = 0
) -> Interchange:
    """Return the month's claims: one per patient and practitioner, grouped by practitioner."""
    practice = billing_month.practice
    by_claim: dict[tuple[int, int], list[BillingLine]] = defaultdict(list)
    for line in lines_of(billing_month):
        if line.batch == batch and claimable(line, billing_month):
            by_claim[(line.practitioner_id, line.patient_id)].append(line)
    rows = []
    for (practitioner_id, patient_id), lines in sorted(by_claim.items()):
        first = lines[0]
        patient, practitioner = first.patient, first.practitioner
        claim = Claim(
            claim_id=f"{billing_month.month.replace('-', '')}-{patient_id}-{practitioner_id}"
            + (f"-S{batch}" if batch else ""),
            patient_last=patient.family_name,
            patient_first=patient.given_name,
            mbi=patient.mbi,
            birth_date=patient.birth_date,
            sex=patient.sex,
            address=Address(patient.address_line, patient.city, patient.state, patient.postal_code),
            place_of_service=first.place_of_service,
            lines=tuple(
                ServiceLine(
                    code=line.code,
                    units=line.units,
                    dos=line.dos,
                    charge=(charge_of(line.code, line.dos) or Decimal(0)) * line.units,
                    diagnoses=tuple(line.diagnoses),
                )
                for line in lines
            ),
        )
        party = Party(
            name=practitioner.last_name or practitioner.get_username(),
            first_name=practitioner.first_name,
            npi=first.rendering_npi,
        )
        rows.append((party, claim))
    when = billing_month.approved_at if billing_month.approved else billing_month.closed_at
    assert when is not None, "a billing month is exported only after a close"
    submitter = Submitter(
        name=practice.name,
        submitter_id=practice.claim_submitter_id or practice.billing_npi,
        billing_npi=practice.billing_npi,
        tax_id=practice.tax_id,
        taxonomy_code=practice.taxonomy_code,
        address=Address(practice.address_line, practice.city, practice.state, practice.postal_code),
        phone=practice.phone,
        payer_name=practice.mac_name or "MEDICARE",
        payer_id=practice.mac_payer_id or "MEDICARE",
    )
    return Interchange(
        submitter=submitter,
        control_number=(billing_month.pk * 100 + batch) % 10**9 or 1,
        created_at=when,
        test=not billing_month.approved,
        groups=group_claims(rows),
    )


def claims_837(
    billing_month: BillingMonth, *, charge_of: ChargeOf = no_charge, batch: int = 0
) -> str:
    """Return the month's 837P text."""
    return render_837p(build_interchange(billing_month, charge_of=charge_of, batch=batch))
