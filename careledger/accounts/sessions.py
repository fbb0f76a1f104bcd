"""The user's own sessions: list them, end the others, and change the password (ASVS 3.3.3-3.3.4).

Sessions are tracked by allauth.usersessions (one UserSession row per signed-in session, kept up
to date by its middleware). Ending a session deletes its row in Django's session store, so its
cookie is worth nothing afterwards; sessions are not clinical records.
"""

from __future__ import annotations

from datetime import datetime

from allauth.usersessions.models import UserSession
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest

from careledger.accounts.models import User
from careledger.audit.services import client_ip, record_event


def track_session(request: HttpRequest) -> None:
    """Record the request's freshly signed-in session so the user can see and end it."""
    UserSession.objects.create_from_request(request)


def own_sessions(user: User) -> list[UserSession]:
    """Return the user's live sessions, oldest first (sessions already gone are dropped)."""
    return sorted(UserSession.objects.purge_and_list(user), key=lambda s: s.created_at)


def _end(sessions: list[UserSession]) -> int:
    for session in sessions:
        session.end()
    return len(sessions)


def end_other_sessions(
    *,
    user: User,
    current_key: str | None,
    session_ids: list[int] | None,
    request: HttpRequest,
    now: datetime,
) -> int:
    """End the user's sessions other than the current one (all, or those listed); return how many.

    Only the user's own sessions can be named; ids of anyone else's are ignored.
    """
    others = UserSession.objects.filter(user=user).exclude(session_key=current_key or "")
    if session_ids is not None:
        others = others.filter(pk__in=session_ids)
    with transaction.atomic():
        ended = _end(list(others))
        which = "all others" if session_ids is None else "chosen"
        if ended:
            record_event(
                "auth.session_ended",
                actor=user,
                source_ip=client_ip(request),
                details={"sessions": ended, "which": which},
                now=now,
            )
    return ended


def change_password(*, user: User, new_password: str, request: HttpRequest, now: datetime) -> int:
    """Set a new password, keep the current session and end every other one; return how many."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # The current session gets the new auth hash (and a new key); every other session's
        # hash no longer matches, and their store rows are deleted as well.
        old_key = request.session.session_key or ""
        update_session_auth_hash(request, user)
        new_key = request.session.session_key or ""
        others = UserSession.objects.filter(user=user).exclude(session_key__in=[old_key, new_key])
        ended = _end(list(others))
        UserSession.objects.filter(session_key=old_key).exclude(session_key=new_key).update(
            session_key=new_key
        )
        if new_key and not UserSession.objects.filter(session_key=new_key).exists():
            UserSession.objects.create_from_request(request)
        record_event(
            "auth.password_changed",
            actor=user,
            source_ip=client_ip(request),
            details={"other_sessions_ended": ended},
            now=now,
        )
    return ended
