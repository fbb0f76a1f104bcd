"""Each audit row is hashed onto the one before it; tampering is found (case 38).

The triggers are dropped inside the test's transaction (DDL is transactional on SQLite and
PostgreSQL alike), so the rollback at the end puts them back.
"""

from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone
from importlib import import_module
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.audit import chain
from careledger.audit.models import AuditChainHead, AuditEvent
from careledger.audit.services import record_event, record_events

pytestmark = pytest.mark.django_db

append_only = import_module("careledger.audit.migrations.0002_append_only_triggers")


def _practice(slug: str) -> Practice:
    return Practice.objects.create(
        name=slug.title(), slug=slug, timezone="America/Chicago", billing_npi="1234567893"
    )


@pytest.fixture
def events() -> list[AuditEvent]:
    north, south = _practice("north"), _practice("south")
    return [
        record_event(
            "patient.viewed",
            actor=None,
            practice=north if n % 2 else south,
            patient_id=n,
            source_ip="2001:DB8::0:1" if n == 3 else "10.0.0.7",
            details={"n": n, "z": [1, 2.5, None], "a": {"b": "ü"}},
        )
        for n in range(1, 7)
    ]


def _drop_triggers() -> None:
    statements = append_only.SQLITE_REVERSE
    if connection.vendor == "postgresql":
        statements = append_only.POSTGRES_REVERSE
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _verify(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_each_row_is_hashed_onto_the_one_before(events: list[AuditEvent]) -> None:
    rows = list(AuditEvent.objects.order_by("id").values(*chain.FIELDS, "prev_hash", "row_hash"))
    assert [r["id"] for r in rows] == [e.pk for e in events]
    assert rows[0]["prev_hash"] == chain.GENESIS
    for before, row in pairwise(rows):
        assert row["prev_hash"] == before["row_hash"]
    for row in rows:  # what the database hands back hashes to what was stored
        assert chain.row_hash(row["prev_hash"], row) == row["row_hash"]
    head = AuditChainHead.objects.get()
    assert (head.last_event_id, head.last_hash) == (events[-1].pk, rows[-1]["row_hash"])


def test_an_intact_chain_passes_with_a_one_line_summary(events: list[AuditEvent]) -> None:
    code, out, err = _verify()
    assert code == 0, err
    assert out.strip().count("\n") == 0
    assert out.startswith("audit chain intact: 6 events checked")
    code, out, _ = _verify("--practice", "north")
    assert code == 0
    assert "intact for practice north: 3 events" in out


def test_an_edited_row_is_the_first_broken_link(events: list[AuditEvent]) -> None:
    _drop_triggers()
    _sql("UPDATE audit_auditevent SET patient_id = 99 WHERE id = %s", [events[2].pk])
    code, out, err = _verify()
    assert code == 1
    assert not out
    assert f"broken at event {events[2].pk}: its contents do not match its hash" in err


def test_an_edited_row_with_its_hash_recomputed_breaks_the_next_link(
    events: list[AuditEvent],
) -> None:
    _drop_triggers()
    row = AuditEvent.objects.filter(pk=events[1].pk).values(*chain.FIELDS, "prev_hash").get()
    row["details"] = {"n": 0}
    forged = chain.row_hash(row["prev_hash"], row)
    _sql(
        "UPDATE audit_auditevent SET details = %s, row_hash = %s WHERE id = %s",
        ['{"n": 0}', forged, events[1].pk],
    )
    code, _, err = _verify()
    assert code == 1
    assert f"broken at event {events[2].pk}: its previous hash does not match" in err


def test_a_deleted_row_leaves_a_gap_in_the_chain(events: list[AuditEvent]) -> None:
    _drop_triggers()
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [events[3].pk])
    code, _, err = _verify()
    assert code == 1
    gone = events[3].pk
    assert f"broken at event {events[4].pk}: its previous hash does not match event" in err
    assert f"ids {gone}-{gone} are missing" in err
    # The practice whose row came after the gap sees it too.
    practice = "north" if events[4].practice_id == events[0].practice_id else "south"
    assert _verify("--practice", practice)[0] == 1


def test_deleting_the_last_rows_is_found_against_the_chain_head(
    events: list[AuditEvent],
) -> None:
    _drop_triggers()
    _sql("DELETE FROM audit_auditevent WHERE id >= %s", [events[4].pk])
    code, _, err = _verify()
    assert code == 1
    assert f"broken at event {events[3].pk}: the chain head names event {events[5].pk}" in err


def test_re_ordered_rows_are_found(events: list[AuditEvent]) -> None:
    _drop_triggers()
    # Swap the contents of two rows, hashes and all: each now sits in the other's place.
    first, second = events[1].pk, events[2].pk
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [-1, first])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [first, second])
    _sql("UPDATE audit_auditevent SET id = %s WHERE id = %s", [second, -1])
    code, _, err = _verify()
    assert code == 1
    assert f"broken at event {first}:" in err


def test_the_first_of_several_breaks_is_reported(events: list[AuditEvent]) -> None:
    _drop_triggers()
    _sql("UPDATE audit_auditevent SET event = 'patient.updated' WHERE id = %s", [events[4].pk])
    _sql("UPDATE audit_auditevent SET outcome = 'denied' WHERE id = %s", [events[1].pk])
    _, _, err = _verify()
    assert err.count("broken") == 1
    assert f"broken at event {events[1].pk}:" in err


def test_an_unknown_practice_is_a_usage_error(events: list[AuditEvent]) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no practice"):
        call_command("verify_audit_chain", "--practice", "nowhere")


def test_an_empty_log_is_intact() -> None:
    code, out, _ = _verify()
    assert (code, out.strip()) == (0, "audit chain intact: no events yet")


def test_naive_or_non_utc_times_hash_as_the_same_instant() -> None:
    at = timezone.now().astimezone(dt_timezone(timedelta(hours=-6)))
    event = record_event("demo.loaded", actor=None, now=at)
    row = AuditEvent.objects.filter(pk=event.pk).values(*chain.FIELDS, "prev_hash").get()
    assert chain.row_hash(row["prev_hash"], row) == event.row_hash
    with pytest.raises(ValueError, match="timezone-aware"):
        chain.canonical({**row, "occurred_at": at.replace(tzinfo=None)})


def test_events_appended_together_chain_like_events_appended_one_by_one(
    events: list[AuditEvent],
) -> None:
    # record_events (a batch of readings: one event per patient) locks the head once and
    # inserts the rows in one statement; the chain is the one record_event would have made.
    north = Practice.objects.get(slug="north")
    together = record_events(
        "reading.received",
        actor=None,
        practice=north,
        source_ip="10.0.0.9",
        each=[(n, {"stored": n, "sources": {"automatic": n}}) for n in (11, 12, 13)],
    )
    after = record_event("patient.viewed", actor=None, practice=north, patient_id=14)

    rows = list(AuditEvent.objects.order_by("id").values(*chain.FIELDS, "prev_hash", "row_hash"))
    assert [r["id"] for r in rows] == [e.pk for e in [*events, *together, after]]
    assert [r["patient_id"] for r in rows[-4:]] == [11, 12, 13, 14]
    for before, row in pairwise(rows):
        assert row["prev_hash"] == before["row_hash"]
    for row in rows:
        assert chain.row_hash(row["prev_hash"], row) == row["row_hash"]
    assert AuditChainHead.objects.get().last_event_id == after.pk
    code, out, err = _verify()
    assert code == 0, err
    assert out.startswith("audit chain intact: 10 events checked")
    assert record_events("reading.received", actor=None, practice=north, each=[]) == []
