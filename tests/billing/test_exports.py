"""billing.csv, billing.json and the 837P: exact columns, no formulas, valid X12, same bytes."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from careledger.billing import services
from careledger.billing.close import close_month
from careledger.billing.exports.claims import claims_837
from careledger.billing.exports.csvfile import COLUMNS, billing_csv, neutralise
from careledger.billing.exports.jsonfile import billing_document, billing_json
from careledger.billing.exports.x12 import clean
from careledger.billing.models import BillingMonth
from careledger.billing.selectors import lines_of, review_list
from tests.billing.builders import MONTH, NOW, complete_practice, rpm_patient, validate_837
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def _month(world: PracticeWorld) -> BillingMonth:
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    return BillingMonth.objects.select_related("practice").get(practice=world.practice)


def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def test_billing_csv_has_exactly_the_api_columns_and_no_byte_order_mark(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    billing_month = _month(world)
    body = billing_csv(billing_month, lines_of(billing_month))
    assert body.startswith(b"patient_id,mrn,patient_name,mbi,program,code,units,dos,")
    assert body.splitlines()[0].decode() == (
        "patient_id,mrn,patient_name,mbi,program,code,units,dos,billing_npi,rendering_npi,pos,"
        "diagnoses,qmb,status,flags,line_id"
    )
    assert tuple(_rows(body)[0]) == COLUMNS
    row = _rows(body)[0]
    assert row["patient_id"] == str(patient.pk)
    assert (row["code"], row["units"], row["dos"], row["pos"]) == ("99457", "1", "2026-04-30", "11")
    assert row["diagnoses"] == "I10;E11.9"
    assert row["status"] == "proposed"
    assert row["rendering_npi"] == "1245319599"


def test_a_draft_csv_never_says_approved_until_the_month_is(world: PracticeWorld) -> None:
    patient = rpm_patient(world, 22)
    billing_month = _month(world)
    line = billing_month.lines.get(patient=patient)
    services.decide_line(ctx=world.ctx("manager"), line=line, action="approve", reason="", now=NOW)
    assert _rows(billing_csv(billing_month, lines_of(billing_month)))[0]["status"] == "proposed"
    services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    billing_month.refresh_from_db()
    assert _rows(billing_csv(billing_month, lines_of(billing_month)))[0]["status"] == "approved"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_a_formula_are_neutralised(world: PracticeWorld, start: str) -> None:
    rpm_patient(world, 22, family_name=f'{start}HYPERLINK("http://x")', given_name="@SUM(1)")
    billing_month = _month(world)
    row = _rows(billing_csv(billing_month, lines_of(billing_month)))[0]
    assert row["patient_name"].startswith("'")
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("Smith") == "Smith"


def test_exports_of_the_same_month_are_byte_identical(world: PracticeWorld) -> None:
    complete_practice(world)
    for minutes in (12, 22, 45):
        rpm_patient(world, minutes)
    billing_month = _month(world)
    first = (
        billing_csv(billing_month, lines_of(billing_month)),
        billing_json(
            billing_document(billing_month, lines_of(billing_month), review_list(billing_month))
        ),
        claims_837(billing_month),
    )
    again = BillingMonth.objects.select_related("practice").get(pk=billing_month.pk)
    assert first == (
        billing_csv(again, lines_of(again)),
        billing_json(billing_document(again, lines_of(again), review_list(again))),
        claims_837(again),
    )
    document = json.loads(first[1])
    assert document["draft"] is True
    assert document["count"] == 4  # 12: 99470; 22: 99457; 45: 99457 + 99458


def test_the_837p_validates_with_pyx12_and_is_a_test_file_until_approval(
    world: PracticeWorld,
) -> None:
    complete_practice(world)
    for minutes in (12, 22, 45):
        rpm_patient(world, minutes)
    billing_month = _month(world)
    draft = claims_837(billing_month, charge_of=lambda code, on: Decimal("52.00"))
    assert draft.startswith("ISA*")
    assert draft.split("*")[15] == "T"
    assert validate_837(draft)
    services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    billing_month.refresh_from_db()
    final = claims_837(billing_month)
    assert final.split("*")[15] == "P"
    assert validate_837(final)
    segments = final.split("~\n")
    st = [s for s in segments if s.startswith("ST*")]
    assert len(st) == 1  # one billing practitioner
    assert sum(s.startswith("CLM*") for s in segments) == 3
    start, end = (
        segments.index(st[0]),
        next(i for i, s in enumerate(segments) if s.startswith("SE*")),
    )
    assert segments[end].split("*")[1] == str(end - start + 1)


def test_a_deliberately_broken_837p_does_not_validate(world: PracticeWorld) -> None:
    complete_practice(world)
    rpm_patient(world, 22)
    text = claims_837(_month(world))
    assert validate_837(text)
    broken = "\n".join(s for s in text.split("\n") if not s.startswith("NM1*85"))
    assert not validate_837(broken)
    miscounted = text.replace("SE*", "SE*9", 1)
    assert not validate_837(miscounted)


def test_delimiters_in_names_and_addresses_never_reach_the_837p(world: PracticeWorld) -> None:
    complete_practice(world)
    world.practice.name = "Riverside * Family ~ Medicine : ^ Clinic"
    world.practice.save()
    rpm_patient(
        world,
        22,
        family_name="O'Brien~*Smith",
        given_name="Ann:^e",
        address_line="12 Oak*Ave~ Apt:3^",
    )
    text = claims_837(_month(world))
    assert validate_837(text)
    assert "O'BRIEN SMITH" in text
    assert "12 OAK AVE APT 3" in text
    assert clean("a*b~c:d^e") == "A B C D E"
