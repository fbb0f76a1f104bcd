"""Turn a readings file (CSV, or a FHIR R4 Bundle of vital-signs Observations) into readings.

Both formats become the same items the API takes, and go through the same service; the file
is one batch, stored all or nothing. FHIR resources are parsed with ``fhir.resources.R4B``; the
codes are checked here, against the LOINC codes careledger understands.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

LOINC = "http://loinc.org"
READING_SOURCE_SYSTEM = "https://careledger.org/fhir/reading-source"
MAX_FHIR_BYTES = 50 * 1024 * 1024
MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 40

BP_PANEL = "85354-9"
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
HEART_RATE = "8867-4"
WEIGHT = "29463-7"
GLUCOSE_CODES = frozenset({"2339-0", "41653-7"})
SPO2 = "59408-5"
OBSERVATION_STATUSES = frozenset({"final", "amended", "corrected"})
# fhir.resources checks types, not value sets: the codes are checked here.
BUNDLE_TYPES = frozenset(
    {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    }
)

CSV_COLUMNS = (
    "device_id",
    "device_serial",
    "vendor_reading_id",
    "measured_at",
    "type",
    "systolic",
    "diastolic",
    "pulse",
    "value",
    "fasting",
    "pef",
    "unit",
    "source",
)
NUMERIC = frozenset({"systolic", "diastolic", "pulse", "value", "pef"})


class FileUnreadable(Exception):
    """The file as a whole cannot be read (not CSV with the columns, not a FHIR Bundle)."""


@dataclass(frozen=True)
class Parsed:
    """The items of a file, and where each came from (a CSV line or a Bundle entry)."""

    items: list[Any]
    where: list[str]
    problems: list[tuple[str, str, str]]  # (where, field, reason) found while mapping


def parse_file(content: bytes, *, name: str = "") -> Parsed:
    """Parse CSV or a FHIR Bundle, choosing by the first non-blank character."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"the file is not UTF-8 (byte {exc.start})") from None
    if text.lstrip().startswith("{"):
        if len(content) > MAX_FHIR_BYTES:
            raise FileUnreadable("a FHIR Bundle may be at most 50 MB; split it")
        return parse_fhir_bundle(text)
    if len(content) > MAX_CSV_BYTES:
        # Case 14: refuse an oversized CSV up front, as the other importers do.
        raise FileUnreadable("a readings CSV may be at most 10 MB; split it")
    return parse_csv(text)


def _csv_value(column: str, raw: str) -> Any:
    raw = raw.strip()
    if raw == "":
        return None
    if column == "device_id":
        try:
            return int(raw)
        except ValueError:
            return raw
    if column in NUMERIC:
        try:
            return float(raw)
        except ValueError:
            return raw  # the service refuses it with its field and reason
    if column == "fasting":
        return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
            raw.lower(), raw
        )
    return raw


def _csv_text(raw: str) -> str | None:
    """``_csv_value`` for a plain text column, the common case, without its dispatch."""
    return raw.strip() or None


def iter_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line, item) for each CSV row; columns outside ``CSV_COLUMNS`` are ignored.

    Reads as ``csv.DictReader`` would (a repeated column's last cell wins, a short row's missing
    cells are absent, blank lines skipped) without building a dict of every cell first.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    if "vendor_reading_id" not in header or "measured_at" not in header or "type" not in header:
        raise FileUnreadable(
            "the CSV header needs at least vendor_reading_id, measured_at, type, unit and "
            "device_serial or device_id"
        )
    last = {name: position for position, name in enumerate(header)}
    cells = [
        (
            column,
            last[column],
            _csv_text
            if column not in NUMERIC and column not in ("device_id", "fasting")
            else partial(_csv_value, column),
        )
        for column in CSV_COLUMNS
        if column in last
    ]
    for row in reader:
        if row == []:
            continue
        size = len(row)
        item = {}
        for column, position, value in cells:
            if position < size:
                raw = row[position]
                if raw != "":
                    item[column] = value(raw)
        yield reader.line_num, item


def parse_csv(text: str) -> Parsed:
    items: list[Any] = []
    where: list[str] = []
    try:
        for line, item in iter_csv(text):
            items.append(item)
            where.append(f"line {line}")
    except csv.Error as exc:
        # A cell past the csv module's field limit, a NUL byte: the file, not a crash.
        raise FileUnreadable(f"line {len(items) + 2} is not valid CSV: {exc}") from None
    return Parsed(items=items, where=where, problems=[])


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def parse_fhir_bundle(text: str) -> Parsed:
    """Map a Bundle of vital-signs Observations to reading items (case 12: hostile input)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FileUnreadable(f"the file is not JSON: {exc}") from None
    except RecursionError:
        # Case 12: JSON nested past the parser's own limit is refused, not a crash.
        raise FileUnreadable(f"the Bundle is nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FileUnreadable("the JSON is not a FHIR Bundle (resourceType must be Bundle)")
    if _depth(data) > MAX_DEPTH:
        raise FileUnreadable(f"the Bundle is nested deeper than {MAX_DEPTH} levels")
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        details = exc.errors()
        loc = ".".join(str(p) for p in details[0]["loc"]) if details else ""
        message = details[0]["msg"] if details else str(exc)
        raise FileUnreadable(f"the Bundle is not valid FHIR R4B: {loc}: {message}") from None
    if bundle.type not in BUNDLE_TYPES:
        raise FileUnreadable(f"Bundle.type {bundle.type!r} is not in the FHIR value set")
    items: list[Any] = []
    where: list[str] = []
    problems: list[tuple[str, str, str]] = []
    for number, entry in enumerate(bundle.entry or []):
        place = f"entry {number}"
        resource = entry.resource
        if resource is None or resource.get_resource_type() != "Observation":
            kind = resource.get_resource_type() if resource is not None else "nothing"
            problems.append((place, "resourceType", f"expected Observation, found {kind}"))
            continue
        mapped = observation_to_item(resource)
        if isinstance(mapped, tuple):
            problems.append((place, mapped[0], mapped[1]))
            continue
        items.append(mapped)
        where.append(place)
    return Parsed(items=items, where=where, problems=problems)


def _codes(concept: Any) -> set[str]:
    if concept is None:
        return set()
    return {c.code for c in (concept.coding or []) if c.system == LOINC and c.code}


def _quantity(q: Any) -> tuple[float | None, str | None]:
    if q is None:
        return None, None
    value = float(q.value) if q.value is not None else None
    return value, q.code or q.unit


def observation_to_item(obs: Any) -> dict[str, Any] | tuple[str, str]:
    """Map one Observation to a reading item, or return (field, reason) when it cannot be."""
    if obs.status not in OBSERVATION_STATUSES:
        return "status", f"status {obs.status!r} is not a final result"
    codes = _codes(obs.code)
    if obs.effectiveDateTime is None:
        return "effectiveDateTime", "required"
    measured_at = obs.effectiveDateTime
    measured = measured_at.isoformat() if hasattr(measured_at, "isoformat") else str(measured_at)
    device = obs.device
    item: dict[str, Any] = {"measured_at": measured}
    reading_id = obs.id or next((i.value for i in (obs.identifier or []) if i.value), None)
    item["vendor_reading_id"] = reading_id
    if device is None:
        return "device", "the Observation names no device"
    if device.identifier is not None and device.identifier.value:
        item["device_serial"] = device.identifier.value
    elif device.reference and device.reference.startswith("Device/"):
        raw = device.reference.removeprefix("Device/")
        item["device_id"] = int(raw) if raw.isdigit() else raw
    else:
        return "device", "give device.identifier.value (serial) or a Device/<id> reference"
    manual = any(
        t.system == READING_SOURCE_SYSTEM and t.code == "manual"
        for t in ((obs.meta.tag or []) if obs.meta is not None else [])
    )
    item["source"] = "manual" if manual else "automatic"
    if BP_PANEL in codes:
        item["type"] = "blood_pressure"
        for component in obs.component or []:
            component_codes = _codes(component.code)
            value, unit = _quantity(component.valueQuantity)
            if SYSTOLIC in component_codes:
                item["systolic"], item["unit"] = value, unit
            elif DIASTOLIC in component_codes:
                item["diastolic"] = value
                item.setdefault("unit", unit)
            elif HEART_RATE in component_codes:
                item["pulse"] = value
        if "systolic" not in item or "diastolic" not in item:
            return "component", f"a {BP_PANEL} panel needs {SYSTOLIC} and {DIASTOLIC}"
        return item
    value, unit = _quantity(obs.valueQuantity)
    if WEIGHT in codes:
        item["type"] = "weight"
    elif codes & GLUCOSE_CODES:
        item["type"] = "glucose"
    elif SPO2 in codes:
        item["type"] = "spo2"
    else:
        shown = ", ".join(sorted(codes)) or "no LOINC code"
        return "code", f"{shown} is not a vital sign careledger reads"
    if value is None:
        return "valueQuantity", "required"
    item["value"], item["unit"] = value, unit
    return item


def _issue_code(field: str) -> str:
    # FHIR R4 IssueType: "structure" for a document that is not a usable Bundle, "code-invalid"
    # for a code outside what careledger reads, "not-found" for a device not in the practice.
    if field in ("file", "resourceType", "Bundle.type"):
        return "structure"
    if field in ("status", "code"):
        return "code-invalid"
    if field in ("device_id", "device_serial", "device"):
        return "not-found"
    return "invalid"


def operation_outcome(problems: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Describe refused FHIR input as an R4 OperationOutcome, one error issue per problem.

    ``problems`` are (where, field, reason): where is "entry N" or "file" for the whole Bundle.
    """
    issues = []
    for where, field, reason in problems:
        if where.startswith("entry "):
            expression = f"Bundle.entry[{where.removeprefix('entry ')}].resource.{field}"
        else:
            expression = "Bundle"
        issues.append(
            {
                "severity": "error",
                "code": _issue_code(field),
                "diagnostics": reason,
                "expression": [expression],
            }
        )
    return {"resourceType": "OperationOutcome", "issue": issues}


def looks_like_fhir(content: bytes) -> bool:
    """Tell whether ``parse_file`` reads ``content`` as JSON (a FHIR Bundle) rather than CSV."""
    return content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
