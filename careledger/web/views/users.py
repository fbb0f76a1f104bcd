"""The practice's users page: invite, change roles, deactivate, grant break-glass access.

Only admins manage users (``users.manage``); whoever holds break-glass access may end it.
Each action calls one service in careledger.accounts.users, which audits it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import ctx_of, public, requires
from careledger.accounts.models import BreakGlassGrant, Membership
from careledger.accounts.roles import Credential, Role, RuleClass
from careledger.accounts.users import (
    Invitation,
    change_membership,
    end_break_glass,
    grant_break_glass,
    grant_in,
    grants_of,
    invite_member,
    invited_user,
    members_of,
    membership_in,
    send_invitation,
    set_account_active,
    set_invited_password,
    set_membership_active,
)
from careledger.audit.services import client_ip
from careledger.web.forms import apply_service_errors


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="The set-password link is sent here.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices)
    credential = forms.ChoiceField(choices=Credential.choices)
    npi = forms.CharField(label="Individual NPI", max_length=10, required=False)


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    credential = forms.ChoiceField(choices=Credential.choices)
    rule_class = forms.ChoiceField(
        choices=[("", "The credential's default"), *RuleClass.choices],
        required=False,
        help_text="What the billing rules count this person as (CCM-4).",
    )


class BreakGlassForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, help_text="The role to act in meanwhile.")
    hours = forms.IntegerField(
        min_value=1, max_value=BreakGlassGrant.MAX_HOURS, initial=4, help_text="At most 24."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def _invite_link(request: HttpRequest, invitation: Invitation) -> str:
    if invitation.uidb64 is None or invitation.token is None:
        return ""
    path = reverse("user-invite-accept", args=(invitation.uidb64, invitation.token))
    return request.build_absolute_uri(path)


@requires("users.manage")
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    """List the practice's members and its break-glass grants."""
    ctx = ctx_of(request)
    now = timezone.now()
    return render(
        request,
        "web/users/list.html",
        {
            "rows": members_of(ctx.practice, now=now),
            "grants": grants_of(ctx.practice),
            "now": now,
        },
    )


@requires("users.manage")
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    """Invite a person (new or existing account) with a role; show the set-password link."""
    ctx = ctx_of(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invite_member(
                actor=ctx.user,
                practice=ctx.practice,
                now=timezone.now(),
                source_ip=ctx.source_ip,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            link = _invite_link(request, invitation)
            send_invitation(invitation=invitation, link=link)
            return render(
                request, "web/users/invited.html", {"invitation": invitation, "link": link}
            )
    status = 400 if form.errors else 200
    return render(request, "web/users/invite.html", {"form": form}, status=status)


def _edit_context(membership: Membership, form: forms.Form, **extra: Any) -> dict[str, Any]:
    return {"membership": membership, "form": form, **extra}


@requires("users.manage")
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Change a member's role, credential and rule class."""
    ctx = ctx_of(request)
    membership = membership_in(ctx.practice, membership_id)
    initial = {
        "role": membership.role,
        "credential": membership.credential,
        "rule_class": membership.rule_class,
    }
    form = MembershipForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            change_membership(
                actor=ctx.user,
                membership=membership,
                now=timezone.now(),
                source_ip=ctx.source_ip,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{membership.user.get_username()} updated.")
            return redirect("user-list")
    status = 400 if form.errors else 200
    return render(request, "web/users/edit.html", _edit_context(membership, form), status=status)


@requires("users.manage")
@require_POST
def member_active(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Deactivate or reactivate a membership (``scope=membership``) or account (``account``)."""
    ctx = ctx_of(request)
    membership = membership_in(ctx.practice, membership_id)
    active = request.POST.get("active") == "1"
    service = (
        set_account_active if request.POST.get("scope") == "account" else set_membership_active
    )
    try:
        service(
            actor=ctx.user,
            membership=membership,
            active=active,
            now=timezone.now(),
            source_ip=ctx.source_ip,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        what = "Account" if request.POST.get("scope") == "account" else "Membership"
        state = "reactivated" if active else "deactivated; sessions and API tokens revoked"
        messages.success(request, f"{what} of {membership.user.get_username()} {state}.")
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("user-list")
        return response
    return redirect("user-list")


@requires("users.manage")
@require_http_methods(["GET", "POST"])
def break_glass_add(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Grant a member time-boxed emergency access with a reason."""
    ctx = ctx_of(request)
    membership = membership_in(ctx.practice, membership_id)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant_break_glass(
                actor=ctx.user,
                membership=membership,
                now=timezone.now(),
                source_ip=ctx.source_ip,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"Emergency access granted to {membership.user.get_username()}."
            )
            return redirect("user-list")
    status = 400 if form.errors else 200
    return render(
        request, "web/users/break_glass.html", _edit_context(membership, form), status=status
    )


@requires("breakglass.end_own")
@require_POST
def break_glass_end(request: HttpRequest, grant_id: int) -> HttpResponse:
    """End a break-glass grant early: its holder or an admin."""
    ctx = ctx_of(request)
    grant = grant_in(ctx.practice, grant_id)
    if grant.user_id != ctx.user.pk and not ctx.may("users.manage"):
        raise PermissionDenied
    try:
        end_break_glass(actor=ctx.user, grant=grant, now=timezone.now(), source_ip=ctx.source_ip)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Emergency access ended.")
    if ctx.may("users.manage"):
        return redirect("user-list")
    return redirect("patient-list")


@public
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Let an invited person set a password (Django's validators) and so activate the account."""
    user = invited_user(uidb64, token)
    if user is None:
        return render(request, "web/users/invite_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        set_invited_password(
            user=user,
            password=form.cleaned_data["new_password1"],
            now=timezone.now(),
            source_ip=client_ip(request),
        )
        messages.success(request, "Your password is set. Sign in to continue.")
        return redirect("login")
    status = 400 if form.errors else 200
    return render(
        request, "web/users/invite_accept.html", {"form": form, "invitee": user}, status=status
    )
