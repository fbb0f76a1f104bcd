"""Close a month: facts for the whole panel, the engine's decision, one service that stores it.

Shell, core, shell (STYLE 2): ``build_month_facts`` reads the practice in a constant number of
queries, ``careledger.rules.evaluate_month`` decides each patient-month, and ``close_month``
stores the billing month, its patient-months and lines, the rule sets, a SHA-256 of the facts and
the audit event in one transaction. A re-close recomputes every line nobody has decided on and
leaves every decision a person made (approved, held, edited, removed, added by hand) as it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction

from careledger.accounts.models import Membership, Practice, User
from careledger.audit.services import record_event
from careledger.billing.decide import (
    MAX_DIAGNOSES,
    LineContext,
    ProposedLine,
    facts_sha256,
    propose_lines,
    withheld,
)
from careledger.billing.facts import PractitionerMonth, build_month_facts
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.billing.months import LocalMonth
from careledger.lib.collector import collector_paused
from careledger.lib.pgbinding import binding_cursor
from careledger.patients.models import DEVICE_PROGRAMS, Condition, Enrollment, Patient
from careledger.rules import MonthFacts, MonthResult, evaluate_month

DIAGNOSIS_FIELDS = ("id", "patient_id", "icd10_code", "chronic", "onset_on", "resolved_on")
ORDER_FIELDS = (
    "id",
    "patient_id",
    "billing_practitioner_id",
    "program",
    "started_on",
    "ordered_on",
    "ordering_practitioner_id",
    "order_indication",
)


class MonthAlreadyApproved(Exception):
    """The month is approved and locked: it changes only by amendment."""


@dataclass(frozen=True)
class Decision:
    """One patient-month decided by the engine, with the line context the claim needs."""

    built: PractitionerMonth
    result: MonthResult
    proposals: tuple[ProposedLine, ...]


@dataclass
class CloseSummary:
    billing_month: BillingMonth
    patients: int
    lines_created: int = 0
    lines_updated: int = 0
    lines_dropped: int = 0
    decisions_kept: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    review_list: int = 0

    def as_dict(self) -> dict[str, Any]:
        bm = self.billing_month
        return {
            "practice": bm.practice.slug,
            "month": bm.month,
            "billing_month_id": bm.pk,
            "status": bm.status,
            "close_count": bm.close_count,
            "rule_sets": [r for r in bm.rule_sets.split(",") if r],
            "facts_sha256": bm.facts_sha256,
            "patients": self.patients,
            "lines": sum(self.by_status.values()),
            "by_status": dict(sorted(self.by_status.items())),
            "lines_created": self.lines_created,
            "lines_updated": self.lines_updated,
            "lines_dropped": self.lines_dropped,
            "decisions_kept": self.decisions_kept,
            "review_list": self.review_list,
        }


def active_diagnoses(conditions: list[Any], month: LocalMonth, first: str = "") -> tuple[str, ...]:
    """Return the ICD-10-CM codes present in the month: ``first`` (an order's), chronic, others."""
    present = [
        c
        for c in conditions
        if (c.onset_on is None or c.onset_on <= month.last_on)
        and (c.resolved_on is None or c.resolved_on >= month.first_on)
    ]
    present.sort(key=lambda c: (not c.chronic, c.id))
    codes: list[str] = [first] if first else []
    for condition in present:
        if condition.icd10_code not in codes:
            codes.append(condition.icd10_code)
    return tuple(codes[:MAX_DIAGNOSES])


def decide_month(
    *, practice: Practice, month: LocalMonth, patient_ids: list[int] | None = None
) -> dict[int, list[Decision]]:
    """Decide every patient-month of the practice (or of ``patient_ids``) in constant queries."""
    built = build_month_facts(practice=practice, month=month, patient_ids=patient_ids)
    ids = sorted(built)
    # Plain rows, not model instances: a close reads every condition of the practice.
    conditions: dict[int, list[Any]] = defaultdict(list)
    for condition in (
        Condition.objects.filter(patient_id__in_ids=ids)
        .order_by("id")
        .values_list(*DIAGNOSIS_FIELDS, named=True)
    ):
        conditions[condition.patient_id].append(condition)
    orders: dict[tuple[int, int, str], Any] = {}
    for enrollment in (
        Enrollment.objects.filter(
            patient_id__in_ids=ids,
            program__in=list(DEVICE_PROGRAMS),
            started_on__lte=month.last_on,
        )
        .order_by("started_on", "id")
        .values_list(*ORDER_FIELDS, named=True)
    ):
        # The newest enrollment that started by the month's end carries the order in force.
        orders[(enrollment.patient_id, enrollment.billing_practitioner_id, enrollment.program)] = (
            enrollment
        )
    npis = dict(Membership.objects.filter(practice=practice).values_list("user_id", "npi"))
    mbis = dict(Patient.objects.filter(pk__in_ids=ids).values_list("pk", "mbi"))
    out: dict[int, list[Decision]] = {}
    for pid in ids:
        decisions = []
        for practitioner_month in built[pid]:
            result = evaluate_month(practitioner_month.facts)
            proposals: list[ProposedLine] = []
            practitioner_id = practitioner_month.practitioner.pk
            for program in sorted({line.program for line in result.lines}):
                order = orders.get((pid, practitioner_id, program))
                ordered = bool(
                    order
                    and order.ordered_on is not None
                    and order.ordering_practitioner_id is not None
                )
                indication = order.order_indication if order else ""
                context = LineContext(
                    diagnoses=active_diagnoses(conditions[pid], month, indication),
                    ordered=ordered,
                    rendering_npi=npis.get(practitioner_id, "") or "",
                    mbi=mbis.get(pid, "") or "",
                )
                program_result = _only(result, program)
                proposals.extend(
                    propose_lines(
                        patient_id=pid,
                        practitioner_id=practitioner_id,
                        result=program_result,
                        notes=practitioner_month.notes,
                        context=context,
                    )
                )
            decisions.append(Decision(practitioner_month, result, tuple(proposals)))
        out[pid] = decisions
    return out


def _only(result: MonthResult, program: str) -> MonthResult:
    lines = tuple(line for line in result.lines if line.program == program)
    return MonthResult(
        lines=lines,
        flags=result.flags,
        minutes_by_program=result.minutes_by_program,
        programs=result.programs,
        rule_set=result.rule_set,
        service_month=result.service_month,
        sources=result.sources,
    )


def patient_facts_sha256(decisions: list[Decision]) -> str:
    return facts_sha256(d.built.facts for d in decisions)


def _canonical(facts: MonthFacts) -> str:
    """Serialise facts as ``decide.facts_sha256`` does; the close does it once per patient-month."""
    return json.dumps(_plain_fast(facts), sort_keys=True, separators=(",", ":"))


# ``decide._plain``'s conversions, chosen once per type instead of tried per value: the same
# output (a test compares them) at a third of the cost, which a 100,000-patient close notices.
_KINDS: dict[type, str] = {}


def _kind(kind_of: type, value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = "dataclass"
    elif isinstance(value, datetime | date):
        kind = "iso"
    elif isinstance(value, Mapping):
        kind = "mapping"
    elif isinstance(value, frozenset | set):
        kind = "set"
    elif isinstance(value, list | tuple):
        kind = "list"
    else:
        kind = "plain"
    _KINDS[kind_of] = kind
    return kind


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain_fast(value: Any) -> Any:
    kind_of = type(value)
    kind = _KINDS.get(kind_of) or _kind(kind_of, value)
    if kind == "plain":
        return value
    if kind == "dataclass":
        names = _FIELD_NAMES.get(kind_of)
        if names is None:
            names = _FIELD_NAMES[kind_of] = tuple(f.name for f in dataclasses.fields(value))
        # Most fields are plain values: pass them through here instead of a call each.
        out = {}
        for name in names:
            item = getattr(value, name)
            out[name] = item if _KINDS.get(type(item)) == "plain" else _plain_fast(item)
        return out
    if kind == "iso":
        return value.isoformat()
    if kind == "mapping":
        return {str(k): _plain_fast(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if kind == "set":
        if all(type(v) is date for v in value):
            # A period's reading days: in date order is in text order; no call per day.
            return [day.isoformat() for day in sorted(value)]
        return sorted(_plain_fast(v) for v in value)
    return [v if _KINDS.get(type(v)) == "plain" else _plain_fast(v) for v in value]


def _sha256_of_parts(parts: Iterable[str]) -> str:
    """Hash canonical parts exactly as ``decide.facts_sha256`` does (sorted, newline-ended)."""
    digest = hashlib.sha256()
    for part in sorted(parts):
        digest.update(part.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _billing_month_row(practice: Practice, month: LocalMonth, now: datetime) -> BillingMonth:
    try:
        with transaction.atomic():
            found, _ = BillingMonth.objects.get_or_create(
                practice=practice, month=month.label, defaults={"created_at": now}
            )
            return found
    except IntegrityError:
        # A concurrent close created it between our read and our insert.
        return BillingMonth.objects.get(practice=practice, month=month.label)


def close_month(
    *,
    practice: Practice,
    month: LocalMonth,
    actor: User | None,
    now: datetime,
    source_ip: str | None = None,
) -> CloseSummary:
    """Close (or re-close) a month; return what was stored. Refuses an approved month."""
    row = _billing_month_row(practice, month, now)
    with collector_paused(), transaction.atomic():
        # Serialize closes and approval of this month: a second close waits, then recomputes.
        billing_month = (
            BillingMonth.objects.select_for_update().select_related("practice").get(pk=row.pk)
        )
        if billing_month.approved:
            raise MonthAlreadyApproved(f"{month.label} is approved and locked.")
        decided = decide_month(practice=practice, month=month)
        canonical = {
            (pid, d.built.practitioner.pk): _canonical(d.built.facts)
            for pid, ds in decided.items()
            for d in ds
        }
        summary = _store(billing_month, decided, practice, now, canonical)
        billing_month.rule_sets = ",".join(
            sorted({d.result.rule_set for ds in decided.values() for d in ds if d.result.rule_set})
        )
        billing_month.facts_sha256 = _sha256_of_parts(canonical.values())
        billing_month.close_count += 1
        billing_month.closed_at = now
        billing_month.closed_by = actor
        billing_month.save()
        summary.by_status = _count_by_status(billing_month)
        record_event(
            "month.closed",
            actor=actor,
            practice=practice,
            obj=billing_month,
            source_ip=source_ip,
            details={
                "month": month.label,
                "close_count": billing_month.close_count,
                "facts_sha256": billing_month.facts_sha256,
                "rule_sets": billing_month.rule_sets,
                "patients": summary.patients,
                "lines": summary.by_status,
                "decisions_kept": summary.decisions_kept,
            },
            now=now,
        )
    return summary


def _count_by_status(billing_month: BillingMonth) -> dict[str, int]:
    # Counted by the database: a large practice's month has thousands of lines.
    return dict(billing_month.lines.order_by().values_list("status").annotate(n=models.Count("id")))


def _store(
    billing_month: BillingMonth,
    decided: dict[int, list[Decision]],
    practice: Practice,
    now: datetime,
    canonical: dict[tuple[int, int], str],
) -> CloseSummary:
    # A constant number of statements whatever the panel's size: new rows go in one
    # ``executemany`` per table, changed rows in one, stale rows in one DELETE
    # (docs/performance.md).
    summary = CloseSummary(billing_month=billing_month, patients=len(decided))
    kept_months = {
        (pm.patient_id, pm.practitioner_id): pm for pm in billing_month.patient_months.all()
    }
    # New rows are plain dicts of column values, not model instances: a close of a large
    # practice inserts thousands, and constructing models cost more than inserting them.
    new_months: list[dict[str, Any]] = []
    changed_months: list[PatientMonth] = []
    for pid, decisions in decided.items():
        for decision in decisions:
            key = (pid, decision.built.practitioner.pk)
            values = {
                "programs": list(decision.built.facts.programs),
                "rule_set": decision.result.rule_set,
                "facts_sha256": _sha256_of_parts([canonical[key]]),
                "flags": [f.as_dict() for f in (*decision.result.flags, *decision.built.notes)],
                "minutes": dict(sorted(decision.result.minutes_by_program.items())),
                "entry_ids": {k: list(v) for k, v in sorted(decision.built.entry_ids.items())},
                "summaries": {
                    program: summary.as_dict()
                    for program, summary in sorted(decision.result.programs.items())
                },
                "withheld": withheld(decision.result),
            }
            existing = kept_months.pop(key, None)
            if existing is None:
                new_months.append(
                    {
                        "billing_month_id": billing_month.pk,
                        "patient_id": pid,
                        "practitioner_id": key[1],
                        **values,
                    }
                )
            else:
                for name, value in values.items():
                    setattr(existing, name, value)
                changed_months.append(existing)
            summary.review_list += int(bool(values["withheld"]))
    _insert_many(PatientMonth, new_months)
    _update_many(PatientMonth, changed_months, MONTH_FIELDS)
    if kept_months:
        PatientMonth.objects.filter(pk__in=[pm.pk for pm in kept_months.values()]).delete()
    existing_lines = {line.key: line for line in billing_month.lines.filter(batch=0)}
    proposals = [p for ds in decided.values() for d in ds for p in d.proposals]
    new_lines: list[dict[str, Any]] = []
    changed_lines: list[BillingLine] = []
    for proposal in proposals:
        line = existing_lines.pop(proposal.key, None)
        status = (
            BillingLine.Status.NEEDS_REVIEW
            if proposal.review_reasons
            else BillingLine.Status.PROPOSED
        )
        engine_values: dict[str, Any] = {
            "engine_units": proposal.line.units,
            "rule_set": proposal.rule_set,
            "evidence": list(proposal.line.evidence),
            "flags": list(proposal.flags),
            "review_reasons": list(proposal.review_reasons),
            "engine_agrees": True,
        }
        claim_values: dict[str, Any] = {
            "units": proposal.line.units,
            "status": status,
            "billing_npi": practice.billing_npi,
            "rendering_npi": proposal.rendering_npi,
            "place_of_service": practice.default_place_of_service,
            "diagnoses": list(proposal.diagnoses),
        }
        if line is None:
            new_lines.append(
                {
                    "billing_month_id": billing_month.pk,
                    "patient_id": proposal.patient_id,
                    "practitioner_id": proposal.practitioner_id,
                    "program": proposal.line.program,
                    "code": proposal.line.code,
                    "dos": proposal.line.dos,
                    "created_at": now,
                    "updated_at": now,
                    **engine_values,
                    **claim_values,
                }
            )
            summary.lines_created += 1
            continue
        values = engine_values if line.decided else {**engine_values, **claim_values}
        summary.decisions_kept += int(line.decided)
        for name, value in values.items():
            setattr(line, name, value)
        line.updated_at = now
        changed_lines.append(line)
        summary.lines_updated += 1
    dropped: list[int] = []
    for line in existing_lines.values():
        if line.decided:
            # A person decided on it: keep the decision, say the engine no longer proposes it.
            line.engine_agrees = False
            line.updated_at = now
            changed_lines.append(line)
            summary.decisions_kept += 1
        else:
            # An undecided draft the engine no longer proposes: it was never billed.
            dropped.append(line.pk)
            summary.lines_dropped += 1
    _insert_many(BillingLine, new_lines)
    _update_many(BillingLine, changed_lines, LINE_FIELDS)
    if dropped:
        BillingLine.objects.filter(pk__in=dropped).delete()
    return summary


# What a re-close may change; a person's decision (decided_by, decided_at, reason) never.
MONTH_FIELDS = (
    "programs",
    "rule_set",
    "facts_sha256",
    "flags",
    "minutes",
    "entry_ids",
    "summaries",
    "withheld",
)
LINE_FIELDS = (
    "engine_units",
    "rule_set",
    "evidence",
    "flags",
    "review_reasons",
    "engine_agrees",
    "units",
    "status",
    "billing_npi",
    "rendering_npi",
    "place_of_service",
    "diagnoses",
    "updated_at",
)


def _insert_many(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert new rows (dicts of attname to value, the same keys in each) in ONE statement.

    A column a row leaves out gets the field's default. PostgreSQL takes the rows as one array
    per column (``INSERT ... SELECT * FROM unnest(...)``), which costs the driver one value per
    column instead of one per cell; SQLite, one ``executemany`` of a prepared statement.
    ``bulk_create`` splits its INSERTs to fit 999 parameters on SQLite (about 40 lines a
    statement), so its statement count grows with the panel; these do not. No keys come back.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = rows[0].keys()
    columns: list[list[Any]] = []
    for f in fields:
        if f.attname in given:
            values = [row[f.attname] for row in rows]
        else:
            values = [f.get_default()] * len(rows)
        prep = _prep(f, array=connection.vendor == "postgresql")
        columns.append(values if prep is None else [prep(value) for value in values])
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql":
        # ``%b``: each array goes in psycopg's binary format through a server-side binding
        # cursor. Django's default (client-side binding) quotes every cell of every array into
        # the statement's text, with a regular expression per string: 5x the cost.
        arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
        with binding_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) "
                f"SELECT * FROM unnest({arrays})",
                columns,
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(model._meta.db_table)} ({names}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            list(zip(*columns, strict=True)),
        )


def _rows(objs: list[Any], fields: list[Any]) -> list[tuple[Any, ...]]:
    """Return the instances' values of ``fields`` as the driver takes them, one tuple each.

    One ``attrgetter`` reads a row; only the columns that need adapting pay for a call.
    """
    read = operator.attrgetter(*(f.attname for f in fields))
    adapt = [(i, prep) for i, f in enumerate(fields) if (prep := _prep(f)) is not None]
    if len(fields) == 1:
        values = [[read(obj)] for obj in objs]
    else:
        values = [list(read(obj)) for obj in objs]
    for row in values:
        for i, prep in adapt:
            row[i] = prep(row[i])
    return [tuple(row) for row in values]


def _prep(field: Any, *, array: bool = False) -> Any:
    """Return how to hand the field's value to the database driver (JSON and dates adapted).

    None when the value goes as it is. ``array``: for a PostgreSQL array parameter, where JSON
    goes as its text (cast to ``jsonb[]`` in the statement).
    """
    if isinstance(field, models.JSONField):
        # None is SQL NULL, as JSONField.get_db_prep_save stores it. Text is what Django's
        # adapt_json_value sends SQLite; PostgreSQL's wraps it for psycopg (``connection`` is
        # looked up once here: each lookup goes through a thread-local).
        encoder = field.encoder
        if array or connection.vendor != "postgresql":
            return lambda value: None if value is None else json.dumps(value, cls=encoder)
        adapt = connection.ops.adapt_json_value
        return lambda value: None if value is None else adapt(value, encoder)
    if isinstance(field, models.DateField):  # DateTimeField included
        # A close stamps every row with the same ``now`` and a few dates of service.
        seen: dict[Any, Any] = {}

        def prep(value: Any) -> Any:
            if value not in seen:
                seen[value] = field.get_db_prep_save(value, connection)
            return seen[value]

        return prep
    if isinstance(field, models.DecimalField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _update_many(model: type[models.Model], objs: list[Any], names: tuple[str, ...]) -> None:
    """Write ``names`` of saved instances with one ``executemany`` UPDATE by primary key."""
    if not objs:
        return
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(str(model._meta.db_table))} SET "
        f"{', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE id = %s"
    )
    rows = [(*row, obj.pk) for row, obj in zip(_rows(objs, fields), objs, strict=True)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
