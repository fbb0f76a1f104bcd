"""POST /auth/token: exchange a username and password for a bearer token."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from careledger.accounts.lockout import GENERIC_REFUSAL
from careledger.accounts.models import ApiToken, User
from careledger.audit.models import AuditEvent
from careledger.audit.services import client_ip, record_event

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str
    expires_at: str


@router.post("/token", auth=None, response={200: TokenOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Issue a bearer token; the refusal never says whether the user exists."""
    user = authenticate(request, username=payload.username, password=payload.password)
    now = timezone.now()
    if user is None or not isinstance(user, User):
        record_event(
            "auth.token_refused",
            actor=None,
            outcome=AuditEvent.Outcome.DENIED,
            source_ip=client_ip(request),
            details={"username": payload.username[:150]},
            now=now,
        )
        raise HttpError(401, GENERIC_REFUSAL)
    key, key_hash = ApiToken.new_key()
    expires_at = now + timedelta(hours=settings.API_TOKEN_HOURS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, key_hash=key_hash, created_at=now, expires_at=expires_at
        )
        record_event(
            "auth.token_issued", actor=user, obj=token, source_ip=client_ip(request), now=now
        )
    return {"token": key, "expires_at": expires_at.isoformat()}


issue_token.careledger_permission = "public"  # type: ignore[attr-defined]
