"""Session lifetime and anti-caching, for every page and API answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from careledger.accounts import mfa
from careledger.accounts.models import User
from careledger.audit.services import client_ip, record_event

SESSION_STARTED_KEY = "careledger_started_at"


class SessionLifetimeMiddleware:
    """End a session past its absolute lifetime (ASVS 3.3.2); Django handles the idle timeout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = int(time.time())
            elif time.time() - started > settings.SESSION_MAX_HOURS * 3600:
                user = request.user
                record_event(
                    "auth.session_expired",
                    actor=user,  # type: ignore[arg-type]
                    source_ip=client_ip(request),
                    details={"reason": "absolute lifetime"},
                )
                logout(request)
        response = self.get_response(request)
        if (
            request.user.is_authenticated
            and hasattr(request, "session")
            and SESSION_STARTED_KEY not in request.session
        ):
            # Signed in by this very request: the lifetime runs from sign-in (case 31).
            request.session[SESSION_STARTED_KEY] = int(time.time())
        return response


class NoStoreMiddleware:
    """Keep patient data out of browser and proxy caches (ASVS 8.2.1)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix):
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


class MfaRequiredMiddleware:
    """Send a privileged user without MFA to enrolment from every page, when MFA is required.

    Runs after authentication and django-htmx: an htmx request gets ``HX-Redirect`` so the swap
    never receives a page. The API refuses such users itself (careledger.api.auth).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.REQUIRE_MFA
            and request.user.is_authenticated
            and not self._exempt(request.path)
        ):
            user = cast(User, request.user)
            membership = mfa.membership_in_use(request, user)
            if mfa.needs_enrolment(user, membership, now=timezone.now()):
                target = reverse("mfa-setup")
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return HttpResponseRedirect(target)
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        # Sign-in and out, the account pages (enrolment among them), static files; the API
        # answers 403 on its own, as JSON.
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path.startswith(("/login/", "/logout/", "/account/", "/api/", static))
