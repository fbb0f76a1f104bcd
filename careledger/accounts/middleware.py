"""Session lifetime and anti-caching, for every page and API answer."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

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
        return self.get_response(request)


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
