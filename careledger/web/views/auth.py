"""Sign in, sign out, choose the practice to act in, and the home page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from careledger.accounts.access import (
    PRACTICE_SESSION_KEY,
    active_memberships,
    requires,
    signed_in,
)
from careledger.accounts.models import User
from careledger.audit.models import AuditEvent
from careledger.audit.services import client_ip, record_event

# One message for every refusal, so the page never tells whether the username exists (ASVS 2.2).
GENERIC_REFUSAL = "The username or password is not correct."


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": GENERIC_REFUSAL,
        "inactive": GENERIC_REFUSAL,
    }


class LoginView(auth_views.LoginView):
    """Django's sign-in page, auditing every success and refusal."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = cast(User, form.get_user())
        memberships = active_memberships(user)
        record_event(
            "auth.login",
            actor=user,
            # Name the practice when there is only one, so its auditors see the sign-in.
            practice=memberships[0].practice if len(memberships) == 1 else None,
            source_ip=client_ip(self.request),
        )
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        attempted = str(form.data.get("username", ""))[:150]
        record_event(
            "auth.login_failed",
            actor=None,
            outcome=AuditEvent.Outcome.FAILURE,
            source_ip=client_ip(self.request),
            details={"username": attempted},  # never the password
        )
        return super().form_invalid(form)


@signed_in
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link or image cannot end someone's session)."""
    user = cast(User, request.user)
    record_event("auth.logout", actor=user, source_ip=client_ip(request))
    logout(request)
    return redirect("login")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@signed_in
@require_http_methods(["GET", "POST"])
def choose_practice(request: HttpRequest) -> HttpResponse:
    """Let a member of several practices pick the one to act in."""
    memberships = active_memberships(cast(User, request.user))
    if request.method == "POST":
        wanted = request.POST.get("practice", "")
        chosen = next((m for m in memberships if str(m.practice_id) == wanted), None)
        if chosen is None:
            # An unknown practice and someone else's practice look the same.
            raise Http404("No such practice.")
        request.session[PRACTICE_SESSION_KEY] = chosen.practice_id
        return HttpResponseRedirect(_safe_next(request, reverse("patient-list")))
    context: dict[str, Any] = {
        "memberships": memberships,
        "next": _safe_next(request, ""),
    }
    return render(request, "web/choose_practice.html", context)


@requires("patient.view")
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their patient list."""
    return redirect("patient-list")
