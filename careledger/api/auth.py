"""Bearer-token authentication and the per-operation permission check for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from careledger.accounts import mfa
from careledger.accounts.access import (
    PRACTICE_HEADER,
    PracticeContext,
    request_context,
    resolve_membership,
)
from careledger.accounts.models import ApiToken, User

F = TypeVar("F", bound=Callable[..., Any])

MFA_REQUIRED = (
    "Multi-factor authentication is required for your role in this practice: set up two-step "
    "sign-in at /account/mfa/ in the web app, then ask for a new token with `otp`."
)


class TokenAuth(HttpBearer):
    """Accept ``Authorization: Bearer <token>`` for a live token of an active user.

    Cookies alone never authenticate the API (case 34): no session, no CSRF exposure.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = ApiToken.objects.user_for(token, timezone.now())
        if user is None:
            return None
        permission = _operation_permission(request)
        if permission is not None:
            # Authorize before ninja parses the body, so a role that may not act gets 403
            # whatever it sends, never a validation answer about a resource it cannot touch.
            request.ctx = _context(request, user, permission)  # type: ignore[attr-defined]
        return user


def _operation_permission(request: HttpRequest) -> str | None:
    """Find the permission the matched operation declares (None if it cannot be told)."""
    match = getattr(request, "resolver_match", None)
    view = getattr(match, "func", None)
    # ninja's URL view is a closure over its PathView (ninja 1.7: PathView.get_view).
    cells = getattr(view, "__closure__", None) or ()
    path_view = next(
        (c.cell_contents for c in cells if hasattr(c.cell_contents, "operations")), None
    )
    for operation in getattr(path_view, "operations", ()):
        if request.method in operation.methods:
            permission = getattr(operation.view_func, "careledger_permission", None)
            return permission if isinstance(permission, str) else None
    return None


def _context(request: HttpRequest, user: User, permission: str) -> PracticeContext:
    slug = request.GET.get("practice") or request.META.get(PRACTICE_HEADER)
    membership = resolve_membership(user, slug)
    if mfa.needs_enrolment(user, membership, now=timezone.now()):
        # Case 33: privileged roles reach no patient data without MFA when it is required.
        raise HttpError(403, MFA_REQUIRED)
    # A break-glass grant in force adds its role, and the request is audited as its use.
    ctx = request_context(
        request, user=user, membership=membership, permission=permission, now=timezone.now()
    )
    if not ctx.may(permission):
        raise HttpError(403, "Your role may not do this.")
    return ctx


def api_permission(permission: str) -> Callable[[F], F]:
    """Declare an operation's permission; resolve the caller's practice and role before it runs.

    The practice is the one named by ``?practice=<slug>`` or the ``X-Careledger-Practice`` header,
    or the user's only practice. The context is available as ``request.ctx``.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if getattr(request, "ctx", None) is None:
                user = cast(User, request.auth)  # type: ignore[attr-defined]
                request.ctx = _context(request, user, permission)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapper.careledger_permission = permission  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator
