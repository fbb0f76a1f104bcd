"""Resolve who is asking, in which practice and with which role; deny by default.

Every page view is wrapped in ``requires(permission)`` (or marked ``public``); every API
operation calls ``api_context`` with its permission. A test walks the URL resolver and fails
when a view declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from careledger.accounts.models import BreakGlassGrant, Membership, Practice, User
from careledger.accounts.roles import role_may
from careledger.audit.services import client_ip, record_event

PRACTICE_SESSION_KEY = "careledger_practice_id"
PRACTICE_HEADER = "HTTP_X_CARELEDGER_PRACTICE"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PracticeContext:
    """The caller, the practice they act in, their membership there, and where they came from.

    ``break_glass`` is the emergency grant in force for this request, if any: it adds its
    role's permissions to the membership's own (ONC 170.315(d)(6)).
    """

    user: User
    membership: Membership
    source_ip: str | None
    break_glass: BreakGlassGrant | None = None

    @property
    def practice(self) -> Practice:
        return self.membership.practice

    @property
    def role(self) -> str:
        """Return the role the user acts in: the break-glass role while a grant is in force."""
        return self.break_glass.role if self.break_glass else self.membership.role

    def may(self, permission: str) -> bool:
        if role_may(self.membership.role, permission):
            return True
        return self.break_glass is not None and role_may(self.break_glass.role, permission)


class PracticeNotChosen(Exception):
    """The user belongs to several practices and did not say which one."""


def active_memberships(user: User) -> list[Membership]:
    """Return the user's active memberships, practice first by name."""
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("practice")
        .order_by("practice__name")
    )


def resolve_membership(user: User, slug: str | None) -> Membership:
    """Pick the membership for ``slug``, or the only one; unknown practices are not found."""
    memberships = active_memberships(user)
    if slug:
        for membership in memberships:
            if membership.practice.slug == slug:
                return membership
        raise Http404("No such practice.")
    if len(memberships) == 1:
        return memberships[0]
    if not memberships:
        raise Http404("You are not a member of any practice.")
    raise PracticeNotChosen


def break_glass_in_force(
    user: User, practice: Practice, *, now: datetime
) -> BreakGlassGrant | None:
    """Return the user's break-glass grant in force in the practice at ``now``, if any."""
    return (
        BreakGlassGrant.objects.in_force(now)
        .filter(user=user, practice=practice)
        .order_by("-expires_at")
        .first()
    )


def request_context(
    request: HttpRequest, *, user: User, membership: Membership, permission: str, now: datetime
) -> PracticeContext:
    """Build the context a request acts in, honouring a break-glass grant in force.

    Every request made under a grant writes ``breakglass.used`` naming the grant, whatever it
    asks for (HIPAA 164.312(a)(2)(ii): emergency access is specially audited). Only the path is
    recorded, never the query string, which may carry a patient's name.
    """
    grant = break_glass_in_force(user, membership.practice, now=now)
    ctx = PracticeContext(
        user=user, membership=membership, source_ip=client_ip(request), break_glass=grant
    )
    if grant is not None:
        record_event(
            "breakglass.used",
            actor=user,
            practice=membership.practice,
            obj=grant,
            source_ip=ctx.source_ip,
            details={
                "grant": grant.pk,
                "role": grant.role,
                "method": request.method or "",
                "path": request.path,
                "permission": permission,
            },
            now=now,
        )
    return ctx


def _page_membership(request: HttpRequest, user: User) -> Membership:
    slug = request.GET.get("practice")
    if slug:
        membership = resolve_membership(user, slug)
        request.session[PRACTICE_SESSION_KEY] = membership.practice_id
        return membership
    chosen = request.session.get(PRACTICE_SESSION_KEY)
    if chosen is not None:
        for membership in active_memberships(user):
            if membership.practice_id == chosen:
                return membership
    membership = resolve_membership(user, None)
    request.session[PRACTICE_SESSION_KEY] = membership.practice_id
    return membership


def _login_redirect(request: HttpRequest) -> HttpResponse:
    if getattr(request, "htmx", False):
        # An HTMX swap must not receive the login page as a fragment: send the browser there.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    return redirect_to_login(request.get_full_path())


def requires(permission: str) -> Callable[[F], F]:
    """Wrap a page view: sign-in, practice and role checks; sets ``request.ctx``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _login_redirect(request)
            user = cast(User, request.user)
            try:
                membership = _page_membership(request, user)
            except PracticeNotChosen:
                return redirect_to_login(request.get_full_path(), reverse("choose-practice"))
            ctx = request_context(
                request, user=user, membership=membership, permission=permission, now=timezone.now()
            )
            if not ctx.may(permission):
                raise PermissionDenied
            request.ctx = ctx  # type: ignore[attr-defined]
            return cast(HttpResponse, view(request, *args, **kwargs))

        wrapper.careledger_permission = permission  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator


def ctx_of(request: HttpRequest) -> PracticeContext:
    """Return the context ``requires()`` or the API's ``api_permission`` attached."""
    return cast(PracticeContext, request.ctx)  # type: ignore[attr-defined]


def public(view: F) -> F:
    """Mark a view that needs no sign-in (login, health check)."""
    view.careledger_permission = "public"  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """Wrap a view that needs a signed-in user but no practice (choosing a practice)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request)
        return cast(HttpResponse, view(request, *args, **kwargs))

    wrapper.careledger_permission = "signed_in"  # type: ignore[attr-defined]
    return cast(F, wrapper)


def system_context(practice: Practice) -> PracticeContext:
    """Return a context for work the system does (an import run from the command line).

    An unsaved admin membership carries the practice; the anonymous user makes ``record_event``
    store no actor (the batch's own event names the command instead).
    """
    from django.contrib.auth.models import AnonymousUser

    from careledger.accounts.roles import Credential, Role

    membership = Membership(practice=practice, role=Role.ADMIN, credential=Credential.OTHER)
    return PracticeContext(user=cast(User, AnonymousUser()), membership=membership, source_ip=None)


class ContextRefused(Exception):
    """The named user may not act in the practice (a command's bad input)."""


def command_context(
    practice: Practice, username: str | None, permission: str, *, who_may: str
) -> PracticeContext:
    """Return the context a command acts in: the named member holding ``permission``, or the
    system when no user is named. Raises ContextRefused with a message a user can act on;
    ``who_may`` completes it ("only managers and admins import rosters")."""
    if not username:
        return system_context(practice)
    membership = (
        Membership.objects.filter(
            practice=practice, user__username=username, is_active=True, user__is_active=True
        )
        .select_related("user", "practice")
        .first()
    )
    if membership is None:
        raise ContextRefused(f"{username!r} is not a member of {practice.slug}")
    ctx = PracticeContext(user=membership.user, membership=membership, source_ip=None)
    if not ctx.may(permission):
        raise ContextRefused(f"{username!r} is a {membership.role}; {who_may}")
    return ctx
