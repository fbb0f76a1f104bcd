"""Make retried and double-submitted writes safe with an ``Idempotency-Key`` (API.md, case 22).

A POST, PUT or PATCH from a signed-in user (session or bearer token) may carry a key, in the
``Idempotency-Key`` header (API, htmx) or the ``idempotency_key`` form field (plain forms; see
careledger.js). Requests without one are handled as usual. With one:

- the first request runs and its answer (status, headers, body) is kept for 24 hours;
- the same key with the same method, path and body replays that answer, without running again
  (``Idempotent-Replayed: true``);
- the same key with a different method, path or body is refused with 422;
- the same key while the first request is still running is refused with 409 (retry later);
- a first answer of 5xx (or a streamed or very large one) is not kept, so a retry runs again.

Keys are per user, so two users never see each other's answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone

from careledger.accounts.models import ApiToken, User
from careledger.idempotency.models import EXPIRES_AFTER, IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
FORM_FIELD = "idempotency_key"
METHODS = {"POST", "PUT", "PATCH"}
MAX_KEY_LENGTH = 255
MAX_KEPT_BODY = 1024 * 1024
# Headers that describe the answer itself; cookies and caching are set again on the way out.
KEPT_HEADERS = (
    "Content-Type",
    "Location",
    "HX-Redirect",
    "HX-Location",
    "HX-Refresh",
    "HX-Trigger",
    "HX-Retarget",
    "HX-Reswap",
    "HX-Push-Url",
    "Content-Disposition",
)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_ROW = "_careledger_idempotency_row"


class IdempotencyMiddleware:
    """Replay the first answer to a repeated key; refuse a key reused for another request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        row: IdempotencyKey | None = getattr(request, _ROW, None)
        if row is not None:
            _finish(row, response)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        # Runs after CsrfViewMiddleware.process_view: a replay never skips the CSRF check.
        if request.method not in METHODS:
            return None
        key = _key_of(request)
        if key is None:
            return None
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _refuse(request, 422, "Idempotency-Key must be 1 to 255 printable characters.")
        user = _user_of(request)
        if user is None:
            return None
        digest = _body_sha256(request)
        if digest is None:
            return None
        now = timezone.now()
        fresh = IdempotencyKey(
            user=user,
            key=key,
            method=request.method or "",
            path=request.get_full_path()[:2048],
            body_sha256=digest,
            created_at=now,
        )
        try:
            with transaction.atomic():
                fresh.save()
        except IntegrityError:
            return _repeat(request, fresh, now)
        setattr(request, _ROW, fresh)
        return None


def _repeat(request: HttpRequest, fresh: IdempotencyKey, now: Any) -> HttpResponse | None:
    """Answer a key already used: replay, refuse, or (expired) start over with this request."""
    first = IdempotencyKey.objects.filter(user=fresh.user, key=fresh.key).first()
    if first is None:  # removed meanwhile by expiry: run as a new request
        return None
    if first.created_at <= now - EXPIRES_AFTER:
        IdempotencyKey.objects.filter(pk=first.pk).update(
            method=fresh.method,
            path=fresh.path,
            body_sha256=fresh.body_sha256,
            status=None,
            headers={},
            body=b"",
            created_at=now,
        )
        first.refresh_from_db()
        setattr(request, _ROW, first)
        return None
    if (first.method, first.path, first.body_sha256) != (
        fresh.method,
        fresh.path,
        fresh.body_sha256,
    ):
        return _refuse(
            request,
            422,
            "This Idempotency-Key was already used for a different request; use a new key.",
        )
    if first.status is None:
        return _refuse(
            request, 409, "A request with this Idempotency-Key is still running; retry later."
        )
    replay = HttpResponse(bytes(first.body), status=first.status)
    for name, value in first.headers.items():
        replay[name] = value
    replay["Idempotent-Replayed"] = "true"
    return replay


def _finish(row: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer to replay it, or forget the key so that a retry runs again."""
    body = b"" if response.streaming else response.content
    if response.status_code >= 500 or response.streaming or len(body) > MAX_KEPT_BODY:
        # A technical row, never a record: forgetting it lets the retry do the work.
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=response.status_code, headers=headers, body=body
    )


def _key_of(request: HttpRequest) -> str | None:
    header = request.META.get(HEADER)
    if header is not None:
        return str(header).strip()
    if request.content_type in _FORMS:
        try:
            field = request.POST.get(FORM_FIELD)
        except RequestDataTooBig:
            return None
        return field.strip() if field is not None else None
    return None


def _user_of(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user  # type: ignore[no-any-return]
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return ApiToken.objects.user_for(token.strip(), timezone.now())


def _body_sha256(request: HttpRequest) -> str | None:
    """Hash what was sent: the raw body, or (multipart, already parsed) the fields and files."""
    try:
        return hashlib.sha256(request.body).hexdigest()
    except RequestDataTooBig:
        return None
    except RawPostDataException:
        pass
    digest = hashlib.sha256()
    fields = sorted((k, v) for k, values in request.POST.lists() for v in values)
    digest.update(json.dumps(fields).encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(name.encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": message, "errors": [{"field": "Idempotency-Key", "message": message}]},
            status=status,
        )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
