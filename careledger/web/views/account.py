"""The signed-in user's own account: MFA enrolment and removal, recovery codes, sessions, password.

None of these pages shows patient data, so they need a signed-in user but no practice; they stay
reachable while MFA enrolment is required (careledger.accounts.middleware.MfaRequiredMiddleware).
"""

from __future__ import annotations

from typing import Any, cast

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from careledger.accounts import mfa, sessions
from careledger.accounts.access import signed_in
from careledger.accounts.models import User
from careledger.audit.services import client_ip

PENDING_SECRET_KEY = "careledger_mfa_pending_secret"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _required_here(request: HttpRequest) -> bool:
    user = _user(request)
    return bool(settings.REQUIRE_MFA) and mfa.required_for_user(user, now=timezone.now())


@signed_in
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Show MFA status; enrol an authenticator app (secret and QR code, confirmed by a code)."""
    user = _user(request)
    if mfa.is_enrolled(user):
        return render(
            request,
            "account/mfa.html",
            {"enrolled": True, "codes_left": len(mfa.recovery_codes(user))},
        )
    secret = request.session.get(PENDING_SECRET_KEY) or ""
    error = ""
    if request.method == "POST":
        try:
            codes = mfa.enrol_totp(
                user=user,
                secret=secret,
                code=request.POST.get("code", ""),
                source_ip=client_ip(request),
                now=timezone.now(),
            )
        except ValidationError as exc:
            error = exc.message_dict.get("code", ["That code is not correct."])[0]
        else:
            request.session.pop(PENDING_SECRET_KEY, None)
            return render(request, "account/recovery_codes.html", {"codes": codes, "fresh": True})
    if not secret:
        secret = request.session[PENDING_SECRET_KEY] = mfa.new_totp_secret()
    adapter = get_mfa_adapter()
    totp_url = adapter.build_totp_url(user, secret)
    context: dict[str, Any] = {
        "enrolled": False,
        "required": _required_here(request),
        "secret": secret,
        "totp_url": totp_url,
        # qrcode's SVG of our own otpauth URL: no user input reaches the markup.
        "qr_svg": mark_safe(adapter.build_totp_svg(totp_url)),
        "error": error,
    }
    return render(request, "account/mfa.html", context, status=422 if error else 200)


@signed_in
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Show the unused recovery codes; POST replaces them with a fresh set."""
    user = _user(request)
    if not mfa.is_enrolled(user):
        return redirect("mfa-setup")
    if request.method == "POST":
        codes = mfa.regenerate_recovery_codes(
            user=user, source_ip=client_ip(request), now=timezone.now()
        )
        return render(request, "account/recovery_codes.html", {"codes": codes, "fresh": True})
    return render(
        request, "account/recovery_codes.html", {"codes": mfa.recovery_codes(user), "fresh": False}
    )


@signed_in
@require_http_methods(["GET", "POST"])
def mfa_remove(request: HttpRequest) -> HttpResponse:
    """Remove MFA after the user re-enters their password."""
    user = _user(request)
    if not mfa.is_enrolled(user):
        return redirect("mfa-setup")
    error = ""
    if request.method == "POST":
        try:
            mfa.remove_mfa(
                user=user,
                password=request.POST.get("password", ""),
                source_ip=client_ip(request),
                now=timezone.now(),
            )
        except ValidationError as exc:
            error = exc.message_dict["password"][0]
        else:
            messages.info(request, "Two-step sign-in is removed from your account.")
            return redirect("mfa-setup")
    return render(
        request,
        "account/mfa_remove.html",
        {"error": error, "required": _required_here(request)},
        status=422 if error else 200,
    )


@signed_in
@require_http_methods(["GET", "POST"])
def session_list(request: HttpRequest) -> HttpResponse:
    """List the user's sessions; POST ends the chosen ones, or all but this one."""
    user = _user(request)
    if request.method == "POST":
        chosen: list[int] | None = None
        if request.POST.get("which") != "all":
            chosen = [int(v) for v in request.POST.getlist("session") if v.isdigit()]
        ended = sessions.end_other_sessions(
            user=user,
            current_key=request.session.session_key,
            session_ids=chosen,
            request=request,
            now=timezone.now(),
        )
        messages.info(request, f"Ended {ended} other session{'' if ended == 1 else 's'}.")
        return redirect("account-sessions")
    rows = sessions.own_sessions(user)
    current_key = request.session.session_key
    context = {
        "sessions": [(s, s.session_key == current_key) for s in rows],
        "others": sum(1 for s in rows if s.session_key != current_key),
    }
    return render(request, "account/sessions.html", context)


@signed_in
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password (old one re-entered); every other session ends, this one stays."""
    user = _user(request)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        ended = sessions.change_password(
            user=user,
            new_password=form.cleaned_data["new_password1"],
            request=request,
            now=timezone.now(),
        )
        messages.info(
            request,
            f"Your password is changed. {ended} other session{'' if ended == 1 else 's'} ended.",
        )
        return redirect("account-sessions")
    status = 422 if form.errors else 200
    return render(request, "account/change_password.html", {"form": form}, status=status)
