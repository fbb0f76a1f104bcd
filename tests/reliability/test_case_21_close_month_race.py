"""Case 21: entries posted while the month is being closed are never lost.

Closes race with coordinators logging contacts in real threads on a scratch database
(PostgreSQL when the suite runs there; a SQLite file with IMMEDIATE transactions otherwise).
Pass: each entry is in the closed totals or stored and picked up by the next re-close (the
stored facts hash no longer matches), totals equal the sum of the included entries, and no
"database is locked" (or any other error) reaches a caller.
"""

from __future__ import annotations

from tests.reliability._helpers_b import run_script

SCRIPT = r"""
import json, threading
from datetime import UTC, date, datetime, timedelta
from django.db import connection
from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, Practice, User
from careledger.billing.close import close_month, decide_month
from careledger.billing.decide import facts_sha256
from careledger.billing.models import BillingMonth, PatientMonth
from careledger.billing.months import parse_month
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.timelog.models import TimeEntry
from careledger.timelog.services import Contact, log_contact

now = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
practice = Practice.objects.create(name="Race", slug=SLUG, timezone="America/Chicago",
                                   billing_npi="1234567893")
doctor = User.objects.create(username=SLUG + "-doc")
Membership.objects.create(user=doctor, practice=practice, role="practitioner",
                          credential="MD", npi="1245319599")
nurses = [Membership.objects.create(user=User.objects.create(username=f"{SLUG}-rn{n}"),
                                    practice=practice, role="coordinator", credential="RN")
          for n in range(3)]
patients = []
for n in range(3):
    p = Patient.objects.create(practice=practice, mrn=f"R{n}", given_name="A", family_name="B",
                               birth_date=date(1950, 1, 1), sex="female", mbi="1EG4TE5MK73",
                               created_at=now)
    Condition.objects.create(patient=p, icd10_code="I10", description="", created_at=now)
    Visit.objects.create(patient=p, practitioner=doctor, visited_on=date(2026, 1, 5), kind="em",
                         created_at=now)
    Enrollment.objects.create(patient=p, program="RPM", status="active",
                              billing_practitioner=doctor, started_on=date(2026, 1, 1),
                              consent_on=date(2026, 1, 1), consent_method="verbal",
                              ordered_on=date(2026, 1, 1), ordering_practitioner=doctor,
                              created_at=now)
    patients.append(p)
month = parse_month("2026-04", "America/Chicago")
errors, lock = [], threading.Lock()
start = threading.Barrier(6)

def close():
    start.wait()
    try:
        close_month(practice=practice, month=month, actor=None, now=now)
    except Exception as error:
        with lock:
            errors.append(repr(error))
    finally:
        connection.close()

def post(n):
    member = nurses[n]
    ctx = PracticeContext(user=member.user, membership=member, source_ip=None)
    start.wait()
    try:
        for k, p in enumerate(patients):
            begin = datetime(2026, 4, 6 + n, 14 + k, 0, tzinfo=UTC)
            log_contact(ctx=ctx, patient=p, now=begin + timedelta(hours=1), contact=Contact(
                program="RPM", kind="interactive_call", outcome="reached",
                started_at=begin, ended_at=begin + timedelta(minutes=11),
                summary="Reviewed readings. Adjusted the plan."))
    except Exception as error:
        with lock:
            errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=close) for _ in range(3)]
threads += [threading.Thread(target=post, args=(n,)) for n in range(3)]
for t in threads: t.start()
for t in threads: t.join()

def snapshot():
    billing_month = BillingMonth.objects.get(practice=practice)
    rows = list(PatientMonth.objects.filter(billing_month=billing_month))
    included = sorted(e for pm in rows for ids in pm.entry_ids.values() for e in ids)
    totals_match = all(
        pm.minutes.get(program, 0) == sum(
            TimeEntry.objects.filter(id__in=ids).values_list("seconds", flat=True)) // 60
        for pm in rows for program, ids in pm.entry_ids.items())
    current = facts_sha256(d.built.facts for ds in decide_month(
        practice=practice, month=month).values() for d in ds)
    return {"included": included, "totals_match": totals_match,
            "hash_current": billing_month.facts_sha256 == current}

during = snapshot()
close_month(practice=practice, month=month, actor=None, now=now)
after = snapshot()
print(json.dumps({
    "errors": errors,
    "months": BillingMonth.objects.filter(practice=practice).count(),
    "entries": sorted(TimeEntry.objects.filter(practice=practice).values_list("id", flat=True)),
    "during": during,
    "after": after,
}))
"""


def test_case_21_entries_posted_while_the_month_closes_are_included_or_flagged_never_lost() -> None:
    outcome = run_script(SCRIPT)
    # No "database is locked" (nor anything else) reaches a caller.
    assert outcome["errors"] == []
    assert outcome["months"] == 1
    entries = set(outcome["entries"])
    assert len(entries) == 9  # three coordinators x three patients, all stored
    during = outcome["during"]
    # Each entry is in the closed totals, or the stored facts are stale so the next close takes it.
    assert set(during["included"]) == entries or during["hash_current"] is False
    assert set(during["included"]) <= entries
    assert during["totals_match"] is True
    # The next re-close includes every entry; totals equal the sum of the included entries.
    after = outcome["after"]
    assert set(after["included"]) == entries
    assert after["hash_current"] is True
    assert after["totals_match"] is True
