"""Invite people, change their roles, deactivate them and grant break-glass access.

Issue 11 (ONC 170.315(d)(2): account created, role changed and account disabled are logged;
(d)(6): emergency access for named users). Selectors read; every service writes its change and
its audit event in one transaction. Nothing is deleted except session rows, which hold no
record of their own: ending them is how access is revoked at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.apps import apps
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from careledger.accounts.models import ApiToken, BreakGlassGrant, Membership, Practice, User
from careledger.accounts.roles import DEFAULT_RULE_CLASS, Credential, Role, RuleClass
from careledger.audit.services import record_event


class InviteTokenGenerator(PasswordResetTokenGenerator):
    """One-time set-password links for invited people.

    Its own salt keeps invitation and password-reset links apart. A link stops working once the
    password is set (the hash covers it) or after ``PASSWORD_RESET_TIMEOUT`` (3 days).
    """

    key_salt = "careledger.accounts.users.InviteTokenGenerator"


invite_tokens = InviteTokenGenerator()
logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Selectors


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    mfa_enrolled: bool | None  # None: MFA is not installed, so there is nothing to tell
    break_glass: BreakGlassGrant | None


def _mfa_enrolled_user_ids(user_ids: list[int]) -> set[int] | None:
    # allauth.mfa is optional here: another part of issue 11 installs it.
    if not apps.is_installed("allauth.mfa"):
        return None
    from allauth.mfa.models import Authenticator

    return set(
        Authenticator.objects.filter(user_id__in=user_ids)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .values_list("user_id", flat=True)
    )


def members_of(practice: Practice, *, now: datetime) -> list[MemberRow]:
    """List the practice's members, active or not, with MFA and break-glass state."""
    memberships = list(
        Membership.objects.filter(practice=practice)
        .select_related("user", "practice")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    user_ids = [m.user_id for m in memberships]
    enrolled = _mfa_enrolled_user_ids(user_ids)
    grants = {
        g.user_id: g
        for g in BreakGlassGrant.objects.in_force(now).filter(
            practice=practice, user_id__in=user_ids
        )
    }
    return [
        MemberRow(
            membership=m,
            mfa_enrolled=None if enrolled is None else m.user_id in enrolled,
            break_glass=grants.get(m.user_id),
        )
        for m in memberships
    ]


def membership_in(practice: Practice, membership_id: int) -> Membership:
    """Return one membership of the practice; another practice's is not found."""
    found = (
        Membership.objects.filter(practice=practice, pk=membership_id)
        .select_related("user", "practice")
        .first()
    )
    if found is None:
        raise Http404("No such member.")
    return found


def grants_of(practice: Practice, *, limit: int = 50) -> list[BreakGlassGrant]:
    """List the practice's break-glass grants, newest first."""
    return list(
        BreakGlassGrant.objects.filter(practice=practice).select_related(
            "user", "granted_by", "ended_by"
        )[:limit]
    )


def grant_in(practice: Practice, grant_id: int) -> BreakGlassGrant:
    """Return one break-glass grant of the practice; another practice's is not found."""
    found = (
        BreakGlassGrant.objects.filter(practice=practice, pk=grant_id)
        .select_related("user", "practice")
        .first()
    )
    if found is None:
        raise Http404("No such grant.")
    return found


def invited_user(uidb64: str, token: str) -> User | None:
    """Return the user a set-password link belongs to, or None if it is wrong or spent."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if invite_tokens.check_token(user, token) else None


# ---------------------------------------------------------------------------------------------
# Services


@dataclass(frozen=True)
class Invitation:
    membership: Membership
    new_account: bool
    uidb64: str | None  # set when the person must set a password
    token: str | None


def invite_member(
    *,
    actor: User,
    practice: Practice,
    username: str,
    email: str,
    role: str,
    credential: str,
    now: datetime,
    first_name: str = "",
    last_name: str = "",
    npi: str = "",
    source_ip: str | None = None,
) -> Invitation:
    """Add a person to the practice with a role, creating their account if it is new.

    An existing account is found by username or email. A person without a usable password
    (a new account, or an invitation not yet taken up) gets a one-time set-password link; the
    account stays inactive until the password is set.
    """
    username, email = username.strip(), email.strip()
    if not username and not email:
        raise ValidationError({"username": ["Give a username or an email address."]})
    matches = User.objects.filter(
        (Q(username__iexact=username) if username else Q(pk__in=[]))
        | (Q(email__iexact=email) if email else Q(pk__in=[]))
    )
    found = list(matches[:2])
    if len(found) > 1:
        raise ValidationError(
            {"email": ["This username and this email belong to two different people."]}
        )
    user = found[0] if found else None
    new_account = user is None
    if user is None:
        if not email:
            raise ValidationError({"email": ["A new person needs an email for the invitation."]})
        if not username:
            raise ValidationError({"username": ["A new person needs a username."]})
        user = User(
            username=username,
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            is_active=False,
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
    else:
        existing = Membership.objects.filter(practice=practice, user=user).first()
        if existing is not None and not user.has_usable_password() and existing.is_active:
            # The first link expired unused: issue a new one, audited like the first.
            return _reissue(actor=actor, membership=existing, now=now, source_ip=source_ip)
        if existing is not None:
            raise ValidationError(
                {"username": ["This person is already a member of the practice."]}
            )
    membership = Membership(
        practice=practice, user=user, role=role, credential=credential, npi=npi.strip()
    )
    membership.full_clean(exclude=["practice", "user", "rule_class"])
    with transaction.atomic():
        if new_account:
            user.save()
        membership.user = user
        membership.save()
        record_event(
            "user.invited",
            actor=actor,
            practice=practice,
            obj=membership,
            source_ip=source_ip,
            details={
                "user": user.get_username(),
                "role": role,
                "credential": credential,
                "new_account": new_account,
            },
            now=now,
        )
    if user.has_usable_password():
        return Invitation(membership=membership, new_account=new_account, uidb64=None, token=None)
    return Invitation(
        membership=membership,
        new_account=new_account,
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=invite_tokens.make_token(user),
    )


def _reissue(
    *, actor: User, membership: Membership, now: datetime, source_ip: str | None
) -> Invitation:
    with transaction.atomic():
        record_event(
            "user.invited",
            actor=actor,
            practice=membership.practice,
            obj=membership,
            source_ip=source_ip,
            details={"user": membership.user.get_username(), "link_reissued": True},
            now=now,
        )
    return Invitation(
        membership=membership,
        new_account=False,
        uidb64=urlsafe_base64_encode(force_bytes(membership.user.pk)),
        token=invite_tokens.make_token(membership.user),
    )


def send_invitation(*, invitation: Invitation, link: str) -> None:
    """Email the set-password link once the invitation is committed."""
    user = invitation.membership.user
    if not user.email or not link:
        return
    practice = invitation.membership.practice
    subject = f"You are invited to {practice.name} on careledger"
    body = (
        f"{practice.name} invited you to careledger as {Role(invitation.membership.role).label}.\n"
        f"Set your password here (the link works once and expires in a few days):\n{link}\n"
    )
    transaction.on_commit(lambda: _send(subject, body, user.email))


def _send(subject: str, body: str, to: str) -> None:
    # The admin sees the link on the page too: a mail server that is down must not turn a
    # stored invitation into an error page. Log the failure's kind, never the address.
    try:
        send_mail(subject, body, None, [to])
    except (OSError, SMTPException) as exc:
        logger.warning("invitation email not sent: %s", exc.__class__.__name__)


def set_invited_password(
    *, user: User, password: str, now: datetime, source_ip: str | None
) -> None:
    """Set an invited person's password and activate the account (validated by the caller)."""
    with transaction.atomic():
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        # Each practice the person belongs to sees the activation in its own log.
        for membership in Membership.objects.filter(user=user).select_related("practice"):
            record_event(
                "user.password_set",
                actor=user,
                practice=membership.practice,
                obj=user,
                source_ip=source_ip,
                details={"user": user.get_username()},
                now=now,
            )


def _other_active_admins(membership: Membership) -> int:
    return (
        Membership.objects.filter(
            practice_id=membership.practice_id,
            role=Role.ADMIN,
            is_active=True,
            user__is_active=True,
        )
        .exclude(pk=membership.pk)
        .count()
    )


def _refuse_losing_the_last_admin(membership: Membership, what: str) -> None:
    if (
        membership.role == Role.ADMIN
        and membership.is_active
        and membership.user.is_active
        and _other_active_admins(membership) == 0
    ):
        raise ValidationError(
            {"role": [f"This is the practice's last admin: make someone else admin before {what}."]}
        )


def change_membership(
    *,
    actor: User,
    membership: Membership,
    role: str,
    credential: str,
    now: datetime,
    rule_class: str = "",
    source_ip: str | None = None,
) -> Membership:
    """Change a member's role, credential and billing rule class.

    A new credential without a rule class takes the credential's default (CCM-4). The
    practice never loses its last active admin.
    """
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    if credential not in Credential.values:
        raise ValidationError({"credential": [f"Unknown credential {credential!r}."]})
    if rule_class and rule_class not in RuleClass.values:
        raise ValidationError({"rule_class": [f"Unknown rule class {rule_class!r}."]})
    if not rule_class:
        rule_class = (
            membership.rule_class
            if credential == membership.credential
            else DEFAULT_RULE_CLASS.get(credential, RuleClass.NON_CLINICAL)
        )
    before = {
        "role": membership.role,
        "credential": membership.credential,
        "rule_class": membership.rule_class,
    }
    after = {"role": role, "credential": credential, "rule_class": rule_class}
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changed:
        return membership
    if role != Role.ADMIN:
        _refuse_losing_the_last_admin(membership, "changing this role")
    with transaction.atomic():
        membership.role, membership.credential, membership.rule_class = (
            role,
            credential,
            rule_class,
        )
        membership.save(update_fields=["role", "credential", "rule_class"])
        record_event(
            "membership.role_changed",
            actor=actor,
            practice=membership.practice,
            obj=membership,
            source_ip=source_ip,
            details={"user": membership.user.get_username(), "changed": changed},
            now=now,
        )
    return membership


@dataclass(frozen=True)
class Revoked:
    sessions: int
    tokens: int
    grants: int


def _end_sessions(user: User) -> int:
    ended = 0
    if apps.is_installed("allauth.usersessions"):
        from allauth.usersessions.models import UserSession

        for user_session in UserSession.objects.filter(user=user):
            user_session.end()
            ended += 1
    # Sessions made before (or without) allauth's list: find them by their signed-in user.
    for session in Session.objects.all().iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _revoke_access(*, actor: User, user: User, practice: Practice | None, now: datetime) -> Revoked:
    """End the user's sessions, API tokens and break-glass grants (all, or this practice's)."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    grants = BreakGlassGrant.objects.in_force(now).filter(user=user)
    if practice is not None:
        grants = grants.filter(practice=practice)
    ended_grants = grants.update(ended_at=now, ended_by=actor)
    return Revoked(sessions=_end_sessions(user), tokens=tokens, grants=ended_grants)


def set_membership_active(
    *,
    actor: User,
    membership: Membership,
    active: bool,
    now: datetime,
    source_ip: str | None = None,
) -> Revoked | None:
    """Deactivate a membership (ending the person's sessions and tokens at once) or restore it.

    The person's API tokens serve every practice they belong to, so all of them are revoked:
    they sign in again and take a new token.
    """
    if membership.is_active == active:
        state = "active" if active else "deactivated"
        raise ValidationError({"is_active": [f"This member is already {state}."]})
    if not active:
        _refuse_losing_the_last_admin(membership, "deactivating them")
    revoked = None
    with transaction.atomic():
        membership.is_active = active
        membership.save(update_fields=["is_active"])
        details: dict[str, object] = {"user": membership.user.get_username()}
        if not active:
            revoked = _revoke_access(
                actor=actor, user=membership.user, practice=membership.practice, now=now
            )
            details.update(
                sessions_ended=revoked.sessions,
                tokens_revoked=revoked.tokens,
                grants_ended=revoked.grants,
            )
        record_event(
            "membership.reactivated" if active else "membership.deactivated",
            actor=actor,
            practice=membership.practice,
            obj=membership,
            source_ip=source_ip,
            details=details,
            now=now,
        )
    return revoked


def set_account_active(
    *,
    actor: User,
    membership: Membership,
    active: bool,
    now: datetime,
    source_ip: str | None = None,
) -> Revoked | None:
    """Deactivate a person's whole account (no sign-in, no token anywhere) or restore it.

    A practice's admin acts only on accounts that belong to no other practice; for someone
    who also works elsewhere, deactivate the membership instead.
    """
    user = membership.user
    if user.is_active == active:
        state = "active" if active else "deactivated"
        raise ValidationError({"is_active": [f"This account is already {state}."]})
    if active and not user.has_usable_password():
        raise ValidationError({"is_active": ["This person has not set a password yet."]})
    elsewhere = (
        Membership.objects.filter(user=user, is_active=True)
        .exclude(practice_id=membership.practice_id)
        .exists()
    )
    if elsewhere:
        raise ValidationError(
            {
                "is_active": [
                    "This person also belongs to another practice: deactivate the membership "
                    "here instead."
                ]
            }
        )
    if not active:
        _refuse_losing_the_last_admin(membership, "deactivating them")
    revoked = None
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        details: dict[str, object] = {"user": user.get_username()}
        if not active:
            revoked = _revoke_access(actor=actor, user=user, practice=None, now=now)
            details.update(
                sessions_ended=revoked.sessions,
                tokens_revoked=revoked.tokens,
                grants_ended=revoked.grants,
            )
        record_event(
            "user.reactivated" if active else "user.deactivated",
            actor=actor,
            practice=membership.practice,
            obj=user,
            source_ip=source_ip,
            details=details,
            now=now,
        )
    return revoked


def grant_break_glass(
    *,
    actor: User,
    membership: Membership,
    role: str,
    reason: str,
    hours: int,
    now: datetime,
    source_ip: str | None = None,
) -> BreakGlassGrant:
    """Give a member a role they do not normally hold, from ``now`` for ``hours`` (at most 24).

    No one grants themselves emergency access, and a member holds one grant at a time.
    """
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Say why emergency access is needed."]
    if role not in Role.values:
        errors["role"] = [f"Unknown role {role!r}."]
    elif role == membership.role:
        errors["role"] = ["The member already holds this role."]
    if not 1 <= hours <= BreakGlassGrant.MAX_HOURS:
        errors["hours"] = [f"Grant between 1 and {BreakGlassGrant.MAX_HOURS} hours."]
    if membership.user_id == actor.pk:
        errors["user"] = ["No one grants themselves emergency access: ask another admin."]
    elif not (membership.is_active and membership.user.is_active):
        errors["user"] = ["This member is deactivated."]
    elif (
        BreakGlassGrant.objects.in_force(now)
        .filter(user_id=membership.user_id, practice_id=membership.practice_id)
        .exists()
    ):
        errors["user"] = ["This member already holds emergency access: end it first."]
    if errors:
        raise ValidationError(errors)
    grant = BreakGlassGrant(
        user=membership.user,
        practice=membership.practice,
        role=role,
        reason=reason,
        granted_by=actor,
        starts_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    with transaction.atomic():
        grant.save()
        record_event(
            "breakglass.granted",
            actor=actor,
            practice=grant.practice,
            obj=grant,
            source_ip=source_ip,
            details={
                "grant": grant.pk,
                "user": grant.user.get_username(),
                "role": role,
                "usual_role": membership.role,
                "reason": reason,
                "expires_at": grant.expires_at.isoformat(),
            },
            now=now,
        )
    return grant


def end_break_glass(
    *, actor: User, grant: BreakGlassGrant, now: datetime, source_ip: str | None = None
) -> BreakGlassGrant:
    """End a grant before it expires (its holder or an admin)."""
    if not grant.in_force_at(now):
        raise ValidationError({"grant": ["This emergency access has already ended."]})
    with transaction.atomic():
        grant.ended_at = now
        grant.ended_by = actor
        grant.save(update_fields=["ended_at", "ended_by"])
        record_event(
            "breakglass.ended",
            actor=actor,
            practice=grant.practice,
            obj=grant,
            source_ip=source_ip,
            details={
                "grant": grant.pk,
                "user": grant.user.get_username(),
                "role": grant.role,
                "by_holder": actor.pk == grant.user_id,
            },
            now=now,
        )
    return grant
