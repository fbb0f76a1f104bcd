"""The practice's users and break-glass grants, for its admins (issue 11)."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from careledger.accounts.access import PracticeContext, ctx_of
from careledger.accounts.models import BreakGlassGrant, Membership
from careledger.accounts.roles import Credential, Role, RuleClass
from careledger.accounts.users import (
    MemberRow,
    change_membership,
    end_break_glass,
    grant_break_glass,
    grant_in,
    grants_of,
    invite_member,
    members_of,
    membership_in,
    send_invitation,
    set_account_active,
    set_membership_active,
)
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS

router = Router(tags=["users"])


class MemberOut(Schema):
    id: int = Field(description="The membership's id (PATCH /users/{id}).")
    user_id: int
    username: str
    name: str
    email: str
    role: str
    credential: str
    rule_class: str
    is_active: bool = Field(description="The membership in this practice is active.")
    account_active: bool = Field(description="The account may sign in at all.")
    invited: bool = Field(description="Invited and has not set a password yet.")
    last_login: datetime | None
    mfa_enrolled: bool | None = Field(description="null when MFA is not installed.")
    break_glass_grant_id: int | None


class MemberList(Schema):
    items: list[MemberOut]
    count: int


class InviteIn(Schema):
    username: str = Field("", max_length=150)
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    role: Role
    credential: Credential
    npi: str = Field("", max_length=10)


class InvitedOut(MemberOut):
    set_password_link: str | None = Field(
        description="One-time link for a person without a password (also emailed)."
    )


class MemberPatch(Schema):
    role: Role | None = None
    credential: Credential | None = None
    rule_class: RuleClass | None = None
    is_active: bool | None = Field(None, description="Deactivate (false) or restore (true).")
    account_active: bool | None = Field(
        None, description="Deactivate or restore the whole account (one practice only)."
    )


class GrantOut(Schema):
    id: int
    user_id: int
    username: str
    role: str
    reason: str
    granted_by: str
    starts_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    in_force: bool


class GrantList(Schema):
    items: list[GrantOut]
    count: int


class GrantIn(Schema):
    member_id: int = Field(description="The membership's id, as in GET /users.")
    role: Role
    reason: str = Field(max_length=2000)
    hours: int = Field(ge=1, le=BreakGlassGrant.MAX_HOURS)


def _member(row: MemberRow) -> dict[str, Any]:
    m = row.membership
    return {
        "id": m.pk,
        "user_id": m.user_id,
        "username": m.user.get_username(),
        "name": m.user.get_full_name(),
        "email": m.user.email,
        "role": m.role,
        "credential": m.credential,
        "rule_class": m.rule_class,
        "is_active": m.is_active,
        "account_active": m.user.is_active,
        "invited": not m.user.has_usable_password(),
        "last_login": m.user.last_login,
        "mfa_enrolled": row.mfa_enrolled,
        "break_glass_grant_id": row.break_glass.pk if row.break_glass else None,
    }


def _member_of(membership: Membership) -> dict[str, Any]:
    now = timezone.now()
    row = next(r for r in members_of(membership.practice, now=now) if r.membership == membership)
    return _member(row)


def _grant(grant: BreakGlassGrant, now: datetime) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "user_id": grant.user_id,
        "username": grant.user.get_username(),
        "role": grant.role,
        "reason": grant.reason,
        "granted_by": grant.granted_by.get_username(),
        "starts_at": grant.starts_at,
        "expires_at": grant.expires_at,
        "ended_at": grant.ended_at,
        "ended_by": grant.ended_by.get_username() if grant.ended_by else None,
        "in_force": grant.in_force_at(now),
    }


@router.get("/users", response={200: MemberList, **ERRORS})
@api_permission("users.manage")
def list_users(request: HttpRequest) -> dict[str, Any]:
    """List the practice's members, active or not."""
    rows = members_of(ctx_of(request).practice, now=timezone.now())
    return {"items": [_member(r) for r in rows], "count": len(rows)}


@router.post("/users", response={201: InvitedOut, **ERRORS})
@api_permission("users.manage")
def invite_user(request: HttpRequest, payload: InviteIn) -> Status[dict[str, Any]]:
    """Invite a person (new account, or an existing one by username or email) with a role."""
    ctx = ctx_of(request)
    invitation = invite_member(
        actor=ctx.user,
        practice=ctx.practice,
        now=timezone.now(),
        source_ip=ctx.source_ip,
        **payload.dict(),
    )
    link = None
    if invitation.uidb64 and invitation.token:
        path = reverse("user-invite-accept", args=(invitation.uidb64, invitation.token))
        link = request.build_absolute_uri(path)
        send_invitation(invitation=invitation, link=link)
    return Status(201, {**_member_of(invitation.membership), "set_password_link": link})


@router.patch("/users/{member_id}", response={200: MemberOut, **ERRORS})
@api_permission("users.manage")
def update_user(request: HttpRequest, member_id: int, payload: MemberPatch) -> dict[str, Any]:
    """Change a member's role, credential or rule class, or (de)activate them."""
    ctx = ctx_of(request)
    membership = membership_in(ctx.practice, member_id)
    now = timezone.now()
    with transaction.atomic():  # all of the patch, or none of it
        _apply_patch(ctx, membership, payload, now)
    return _member_of(membership)


def _apply_patch(
    ctx: PracticeContext, membership: Membership, payload: MemberPatch, now: datetime
) -> None:
    if payload.role or payload.credential or payload.rule_class:
        change_membership(
            actor=ctx.user,
            membership=membership,
            role=payload.role or membership.role,
            credential=payload.credential or membership.credential,
            rule_class=payload.rule_class or "",
            now=now,
            source_ip=ctx.source_ip,
        )
    for wanted, current, service in (
        (payload.is_active, membership.is_active, set_membership_active),
        (payload.account_active, membership.user.is_active, set_account_active),
    ):
        if wanted is not None and wanted != current:
            service(
                actor=ctx.user,
                membership=membership,
                active=wanted,
                now=now,
                source_ip=ctx.source_ip,
            )


@router.get("/break-glass", response={200: GrantList, **ERRORS})
@api_permission("users.manage")
def list_grants(request: HttpRequest) -> dict[str, Any]:
    """List the practice's break-glass grants, newest first (the last 50)."""
    now = timezone.now()
    grants = grants_of(ctx_of(request).practice)
    return {"items": [_grant(g, now) for g in grants], "count": len(grants)}


@router.post("/break-glass", response={201: GrantOut, **ERRORS})
@api_permission("users.manage")
def create_grant(request: HttpRequest, payload: GrantIn) -> Status[dict[str, Any]]:
    """Grant a member a role they do not hold, for at most 24 hours, with a reason."""
    ctx = ctx_of(request)
    try:
        membership = membership_in(ctx.practice, payload.member_id)
    except Http404 as exc:  # an unknown member is the body's mistake: name the field
        raise ValidationError({"member_id": ["No such member in this practice."]}) from exc
    now = timezone.now()
    grant = grant_break_glass(
        actor=ctx.user,
        membership=membership,
        role=payload.role,
        reason=payload.reason,
        hours=payload.hours,
        now=now,
        source_ip=ctx.source_ip,
    )
    return Status(201, _grant(grant, now))


@router.post("/break-glass/{grant_id}/end", response={200: GrantOut, **ERRORS})
@api_permission("breakglass.end_own")
def end_grant(request: HttpRequest, grant_id: int) -> dict[str, Any]:
    """End a grant early: its holder or an admin."""
    ctx = ctx_of(request)
    grant = grant_in(ctx.practice, grant_id)
    if grant.user_id != ctx.user.pk and not ctx.may("users.manage"):
        raise HttpError(403, "Your role may not do this.")
    now = timezone.now()
    end_break_glass(actor=ctx.user, grant=grant, now=now, source_ip=ctx.source_ip)
    return _grant(grant, now)
