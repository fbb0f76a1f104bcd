"""Turn every failure into the API's error shape: {"detail", "errors": [{"field", "message"}]}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from careledger.accounts.access import PracticeNotChosen


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str:
    # ninja locations look like ("body", "payload", "mrn") or ("query", "program").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "body"


def django_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    """List a Django ValidationError as field/message pairs."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": field if field != "__all__" else "body", "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "body", "message": str(m)} for m in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    def respond(request: HttpRequest, status: int, detail: str, errors: list[Any]) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "errors": errors}, status=status)

    @api.exception_handler(NinjaValidationError)
    def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors
        ]
        return respond(request, 422, "The request is not valid.", errors)

    @api.exception_handler(DjangoValidationError)
    def service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return respond(request, 422, "The request is not valid.", django_errors(exc))

    @api.exception_handler(PracticeNotChosen)
    def practice_not_chosen(request: HttpRequest, exc: PracticeNotChosen) -> HttpResponse:
        message = "You belong to several practices: name one with ?practice=<slug>."
        return respond(request, 422, message, [{"field": "practice", "message": message}])

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Case 14: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused as too large, not as 400.
        return respond(request, 413, "The body is too large; send smaller batches.", [])

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "Not found.", [])

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, "Authentication required: send a bearer token.", [])

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            # ninja answers a body it cannot parse with a bare 400; the API's contract (and the
            # OpenAPI document) says bad input is 422 with the field named.
            message = "The body is not valid JSON."
            return respond(request, 422, message, [{"field": "body", "message": message}])
        return respond(request, exc.status_code, str(exc), [])
