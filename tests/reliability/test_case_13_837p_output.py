"""Case 13: every generated 837P validates with pyx12, its control numbers and segment counts
are right, and the X12 delimiters (``* ~ : ^``) never reach an element.

Pass: the validator answers True for every golden month and False for a deliberately broken one.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from careledger.accounts.roles import Credential, Role
from careledger.billing import services
from careledger.billing.close import close_month
from careledger.billing.exports.claims import claims_837
from careledger.billing.models import BillingMonth
from careledger.patients.models import Patient, Visit
from tests.billing.builders import MONTH, NOW, complete_practice, rpm_patient, validate_837
from tests.conftest import PracticeWorld
from tests.factories import NPIS, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "family_name": "O'Brien~*Smith^",
    "given_name": "Ann:^e*",
    "address_line": "12 Oak*Ave~ Apt:3^",
    "city": "Spring~field*",
}


def _second_practitioner(world: PracticeWorld, patient: Patient) -> None:
    """Move ``patient`` to another billing practitioner: a second ST-SE transaction."""
    doctor = UserFactory(username="second-doc", first_name="Grace", last_name="Ngata")
    MembershipFactory(
        practice=world.practice,
        user=doctor,
        role=Role.PRACTITIONER,
        credential=Credential.MD,
        npi=NPIS[3],
    )
    patient.enrollments.update(billing_practitioner=doctor, ordering_practitioner=doctor)
    Visit.objects.filter(patient=patient).update(practitioner=doctor)


GOLDEN = {
    "one_rpm_line": [22],
    "rpm_with_add_on_units": [45, 65],
    "device_supply_and_time": [12, 22, 45],
    "hostile_names": ["hostile"],
    "two_practitioners": [22, "second"],
}


def _build(world: PracticeWorld, case: str) -> BillingMonth:
    complete_practice(world)
    for spec in GOLDEN[case]:
        if spec == "hostile":
            rpm_patient(world, 22, **HOSTILE)
        elif spec == "second":
            _second_practitioner(world, rpm_patient(world, 45))
        else:
            assert isinstance(spec, int)
            rpm_patient(world, spec)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    return BillingMonth.objects.select_related("practice").get(practice=world.practice)


def _segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.replace("\n", "").split("~") if s]


def _check_envelope(text: str) -> None:
    """Control numbers match pairwise and every count is right."""
    segments = _segments(text)
    isa, iea = segments[0], segments[-1]
    assert isa[0] == "ISA" and iea[0] == "IEA"
    assert len(isa) == 17 and len(isa[13]) == 9 and isa[13] == iea[2]
    groups = [s for s in segments if s[0] == "GS"]
    assert iea[1] == str(len(groups)) == "1"
    gs, ge = groups[0], next(s for s in segments if s[0] == "GE")
    assert gs[6] == ge[2]
    starts = [i for i, s in enumerate(segments) if s[0] == "ST"]
    ends = [i for i, s in enumerate(segments) if s[0] == "SE"]
    assert len(starts) == len(ends) == int(ge[1])
    assert len({segments[i][2] for i in starts}) == len(starts)  # unique ST02
    for start, end in zip(starts, ends, strict=True):
        assert segments[end][1] == str(end - start + 1), "SE01 counts ST through SE"
        assert segments[end][2] == segments[start][2], "SE02 repeats ST02"
    # The element separator is ISA's fourth character; the component separator is ISA16.
    for segment in segments[1:]:
        for element in segment:
            assert "^" not in element and "~" not in element


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_every_golden_month_validates_with_pyx12_and_counts_right(
    world: PracticeWorld, case: str
) -> None:
    billing_month = _build(world, case)
    draft = claims_837(billing_month, charge_of=lambda code, on: Decimal("52.00"))
    assert validate_837(draft) is True
    _check_envelope(draft)
    services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    billing_month.refresh_from_db()
    final = claims_837(billing_month)
    assert validate_837(final) is True
    _check_envelope(final)
    if case == "two_practitioners":
        assert sum(s[0] == "ST" for s in _segments(final)) == 2
    if case == "hostile_names":
        assert "O'BRIEN SMITH" in final
        assert "12 OAK AVE APT 3" in final


def test_a_deliberately_broken_837p_does_not_validate(world: PracticeWorld) -> None:
    text = claims_837(_build(world, "one_rpm_line"))
    assert validate_837(text) is True
    miscounted = text.replace("SE*", "SE*9", 1)
    assert validate_837(miscounted) is False
    without_billing_provider = "\n".join(s for s in text.split("\n") if not s.startswith("NM1*85"))
    assert validate_837(without_billing_provider) is False


def test_the_api_serves_the_same_valid_837(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    billing_month = _build(world, "hostile_names")
    response = api_client(world.user("biller")).get("/api/v1/months/2026-04/claims.837")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("ascii")
    assert text.startswith("ISA*")
    assert validate_837(text) is True
    _check_envelope(text)
    assert "O'BRIEN SMITH" in text
    assert billing_month.practice.pk == world.practice.pk
