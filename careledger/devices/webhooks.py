"""Vendor webhooks: HMAC-SHA256 signatures, a 300-second window, and replay refusal (case 24).

The vendor signs ``timestamp + "." + raw body`` with its secret and sends
``X-Careledger-Timestamp`` (Unix seconds) and ``X-Careledger-Signature: sha256=<hex>``. A
signature is accepted once: its use is stored with the readings, in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.devices.ingest import IngestResult, ingest_readings
from careledger.devices.models import Vendor, Via, WebhookDelivery

WINDOW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value a vendor sends for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class Refused(Exception):
    """The call is not authentic (or is a replay): 401, nothing stored."""


class NotABatch(Exception):
    """The body is authentic but is not ``{"readings": [...]}``: 422."""


@dataclass(frozen=True)
class Delivery:
    vendor: Vendor
    result: IngestResult


def _refuse(
    vendor: Vendor | None, slug: str, reason: str, ip: str | None, now: datetime
) -> Refused:
    record_event(
        "webhook.refused",
        actor=None,
        practice=vendor.practice if vendor is not None else None,
        outcome=AuditEvent.Outcome.DENIED,
        source_ip=ip,
        details={"vendor": slug[:60], "reason": reason},
        now=now,
    )
    return Refused(reason)


def receive(
    *,
    slug: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    source_ip: str | None,
    now: datetime,
) -> Delivery:
    """Authenticate a webhook call and store its readings; raise Refused or NotABatch."""
    vendor = Vendor.objects.select_related("practice").filter(slug=slug, is_active=True).first()
    if vendor is None:
        raise _refuse(None, slug, "unknown vendor", source_ip, now)
    if not timestamp or not signature:
        raise _refuse(vendor, slug, "missing timestamp or signature", source_ip, now)
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise _refuse(vendor, slug, "timestamp is not Unix seconds", source_ip, now) from None
    if abs((now - signed_at).total_seconds()) > WINDOW_SECONDS:
        raise _refuse(vendor, slug, "timestamp outside the 300-second window", source_ip, now)
    expected = sign(vendor.webhook_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise _refuse(vendor, slug, "bad signature", source_ip, now)
    items = _readings_of(body)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    delivery = WebhookDelivery.objects.create(
                        vendor=vendor,
                        signature=expected.removeprefix("sha256="),
                        signed_at=signed_at,
                        received_at=now,
                    )
            except IntegrityError:
                raise _Replay from None
            result = ingest_readings(
                practice=vendor.practice,
                items=items,
                via=Via.WEBHOOK,
                vendor=vendor,
                source_ip=source_ip,
                source_name=f"webhook {vendor.slug}",
                now=now,
            )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(batch_id=result.batch_id)
            record_event(
                "webhook.received",
                actor=None,
                practice=vendor.practice,
                source_ip=source_ip,
                details={
                    "vendor": vendor.slug,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "refused": len(result.errors),
                },
                now=now,
            )
    except _Replay:
        raise _refuse(vendor, slug, "replayed signature", source_ip, now) from None
    return Delivery(vendor=vendor, result=result)


class _Replay(Exception):
    pass


def _readings_of(body: bytes) -> list[Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotABatch("the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("readings"), list):
        raise NotABatch('the body must be {"readings": [...]}')
    return list(data["readings"])
