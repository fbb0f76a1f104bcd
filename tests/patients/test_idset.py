"""``__in_ids``: a panel's ids as one query parameter, the same rows as ``__in``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.lib.idset import id_array
from careledger.patients.models import Enrollment, Patient
from tests.factories import EnrollmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_in_ids_selects_what_in_selects_on_keys_and_relations() -> None:
    patients = [PatientFactory() for _ in range(6)]
    for patient in patients[:4]:
        EnrollmentFactory(patient=patient)
    wanted = [patients[0].pk, patients[2].pk, patients[5].pk, 10**9]

    assert sorted(Patient.objects.filter(pk__in_ids=wanted).values_list("pk", flat=True)) == sorted(
        Patient.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    by_relation = Enrollment.objects.filter(patient_id__in_ids=wanted).values_list("pk", flat=True)
    by_in = Enrollment.objects.filter(patient_id__in=wanted).values_list("pk", flat=True)
    assert sorted(by_relation) == sorted(by_in) != []
    assert not Patient.objects.filter(pk__in_ids=[]).exists()
    assert Patient.objects.exclude(pk__in_ids=wanted).count() == 3


def test_a_whole_large_practice_goes_as_one_parameter() -> None:
    # 40,000 ids: over SQLite's 32,766-variable limit, which ``__in`` reaches at about
    # 30,000 patients in one practice.
    patient = PatientFactory()
    ids = [*range(10**8, 10**8 + 40_000), patient.pk]

    with CaptureQueriesContext(connection) as queries:
        found = list(Patient.objects.filter(pk__in_ids=ids).values_list("pk", flat=True))

    assert found == [patient.pk]
    assert len(queries.captured_queries) == 1


def test_id_array_for_hand_written_sql() -> None:
    patient = PatientFactory()
    sql, param = id_array([patient.pk, 10**9], connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM patients_patient WHERE id {sql}", [param])
        assert cursor.fetchall() == [(patient.pk,)]
