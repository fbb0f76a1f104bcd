"""POST /auth/token: exchange a username and password for a bearer token."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from careledger.accounts import mfa
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


class TokenFieldError(Schema):
    field: str
    message: str


class TokenRefused(Schema):
    detail: str
    errors: list[TokenFieldError] = []


MFA_ENROLMENT_REQUIRED = (
    "Your role requires multi-factor authentication: set up two-step sign-in at /account/mfa/ "
    "in the web app, then ask for a token with `otp`."
)


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 401: TokenRefused, 403: TokenRefused, 422: TokenRefused},
)
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Issue a bearer token; the refusal never says whether the user exists.

    ``otp`` (a TOTP code, or a recovery code) is required when the user has MFA enrolled or MFA
    is required for one of their roles; each TOTP code is accepted once.
    """
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
    if mfa.is_enrolled(user) or mfa.required_for_user(user, now=timezone.now()):
        if not mfa.is_enrolled(user):
            # The password was right: say what to do, as the other endpoints would.
            record_event(
                "auth.token_refused",
                actor=None,
                outcome=AuditEvent.Outcome.DENIED,
                source_ip=client_ip(request),
                details={"username": payload.username[:150], "reason": "mfa not enrolled"},
                now=now,
            )
            raise HttpError(403, MFA_ENROLMENT_REQUIRED)
        if not payload.otp or not mfa.verify_code(user, payload.otp):
            # A missing, wrong or replayed code gets the same answer as a wrong password.
            mfa.record_second_step_failed(
                user=user, source_ip=client_ip(request), now=now, channel="api"
            )
            # Count it toward django-axes' lockout, like a wrong password.
            user_login_failed.send(
                sender=__name__, credentials={"username": payload.username}, request=request
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
