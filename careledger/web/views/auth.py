"""Sign in, sign out, choose the practice to act in, and the home page."""

from __future__ import annotations

import time
from typing import Any, cast

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from careledger.accounts import mfa
from careledger.accounts.access import (
    PRACTICE_SESSION_KEY,
    active_memberships,
    public,
    requires,
    signed_in,
)
from careledger.accounts.lockout import lockout_response
from careledger.accounts.models import User
from careledger.accounts.sessions import track_session
from careledger.audit.models import AuditEvent
from careledger.audit.services import client_ip, record_event

# One message for every refusal, so the page never tells whether the username exists (ASVS 2.2).
GENERIC_REFUSAL = "The username or password is not correct."
MFA_REFUSAL = "That code is not correct. Enter the current code from your app, or a recovery code."
PENDING_MFA_KEY = "careledger_mfa_pending"
MFA_STEP_SECONDS = 300  # the password step is good for five minutes
MFA_STEP_ATTEMPTS = 5  # then the password is asked for again


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": GENERIC_REFUSAL,
        "inactive": GENERIC_REFUSAL,
    }


def _complete_sign_in(request: HttpRequest, user: User, *, second_step: bool) -> None:
    """Sign the user in (new session key), track the session and audit the sign-in."""
    auth_login(request, user)
    track_session(request)
    memberships = active_memberships(user)
    record_event(
        "auth.login",
        actor=user,
        # Name the practice when there is only one, so its auditors see the sign-in.
        practice=memberships[0].practice if len(memberships) == 1 else None,
        source_ip=client_ip(request),
        details={"mfa": True} if second_step else {},
    )


class LoginView(auth_views.LoginView):
    """Django's sign-in page, auditing every success and refusal; MFA users go on to a code."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = cast(User, form.get_user())
        if mfa.is_enrolled(user):
            # The password was right; the session stays anonymous until the code is too.
            self.request.session[PENDING_MFA_KEY] = {
                "user_id": user.pk,
                "backend": getattr(user, "backend", ""),
                "started": int(time.time()),
                "next": self.get_success_url(),
                "failures": 0,
            }
            return redirect("login-mfa")
        _complete_sign_in(self.request, user, second_step=False)
        return HttpResponseRedirect(self.get_success_url())

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


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    pending = request.session.get(PENDING_MFA_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if time.time() - pending.get("started", 0) > MFA_STEP_SECONDS:
        request.session.pop(PENDING_MFA_KEY, None)
        return None, {}
    user_id = pending.get("user_id")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        request.session.pop(PENDING_MFA_KEY, None)
        return None, {}
    # auth.login() needs the backend that checked the password.
    user.backend = pending.get("backend") or settings.AUTHENTICATION_BACKENDS[-1]  # type: ignore[attr-defined]
    return user, pending


@public
@require_http_methods(["GET", "POST"])
def login_mfa(request: HttpRequest) -> HttpResponse:
    """The second sign-in step: a code from the authenticator app or a recovery code."""
    user, pending = _pending_user(request)
    if user is None:
        return redirect("login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING_MFA_KEY, None)
        return lockout_response(request, None, credentials)
    error = ""
    if request.method == "POST":
        if mfa.verify_code(user, request.POST.get("code", "")):
            request.session.pop(PENDING_MFA_KEY, None)
            _complete_sign_in(request, user, second_step=True)
            return HttpResponseRedirect(pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL))
        mfa.record_second_step_failed(user=user, source_ip=client_ip(request), now=timezone.now())
        # Count the failure toward django-axes' lockout, like a wrong password.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        pending["failures"] = pending.get("failures", 0) + 1
        if pending["failures"] >= MFA_STEP_ATTEMPTS:
            request.session.pop(PENDING_MFA_KEY, None)
            return redirect("login")
        request.session[PENDING_MFA_KEY] = pending
        error = MFA_REFUSAL
    return render(
        request, "registration/login_mfa.html", {"error": error}, status=401 if error else 200
    )


@signed_in
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link or image cannot end someone's session)."""
    user = cast(User, request.user)
    memberships = active_memberships(user)
    record_event(
        "auth.logout",
        actor=user,
        # As at sign-in: name the practice when there is only one, so its auditors see it.
        practice=memberships[0].practice if len(memberships) == 1 else None,
        source_ip=client_ip(request),
    )
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
