"""The users page: invitations, roles, deactivation and break-glass access, each audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careledger.accounts.models import ApiToken, BreakGlassGrant, Membership, User
from careledger.accounts.users import (
    change_membership,
    end_break_glass,
    grant_break_glass,
    invite_member,
    set_account_active,
    set_membership_active,
)
from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=name).order_by("id"))


def invite_link(response_html: str) -> str:
    found = re.search(r'value="(http://testserver/invitation/[^"]+)"', response_html)
    assert found, "the page shows the set-password link"
    return found.group(1).removeprefix("http://testserver")


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the page and who may use it ------------------------------------------------------------


def test_admin_sees_every_member_with_role_credential_status_and_mfa(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    response = login(world, "admin").get(reverse("user-list"))
    assert response.status_code == 200
    html = response.content.decode()
    for role in ("coordinator", "practitioner", "manager", "biller", "auditor", "admin"):
        assert f'data-username="riverside-{role}"' in html
    assert "Physician (MD)" in html and "Last sign-in" in html and "MFA" in html
    assert 'href="/users/"' in html  # the nav link


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "biller", "auditor"])
def test_only_admins_manage_users(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    member = world.members["coordinator"]
    assert client.get(reverse("user-list")).status_code == 403
    assert client.get(reverse("user-invite")).status_code == 403
    assert client.post(reverse("user-edit", args=[member.pk]), {"role": "admin"}).status_code == 403
    assert client.post(reverse("user-active", args=[member.pk]), {"active": "0"}).status_code == 403
    assert "Users</a>" not in client.get(reverse("patient-list")).content.decode()
    assert Membership.objects.get(pk=member.pk).is_active


def test_another_practices_member_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    theirs = other_world.members["coordinator"]
    assert client.get(reverse("user-edit", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("user-active", args=[theirs.pk]), {"active": "0"})
    assert response.status_code == 404
    assert Membership.objects.get(pk=theirs.pk).is_active


# --- invitations ----------------------------------------------------------------------------


def test_an_invitation_creates_an_inactive_account_and_a_one_time_link_sent_by_email(
    world: PracticeWorld, login, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("user-invite"),
            {
                "username": "nina",
                "email": "nina@example.org",
                "first_name": "Nina",
                "last_name": "Okafor",
                "role": "coordinator",
                "credential": "RN",
            },
        )
    assert response.status_code == 200
    link = invite_link(response.content.decode())
    nina = User.objects.get(username="nina")
    assert not nina.is_active and not nina.has_usable_password()
    membership = Membership.objects.get(user=nina, practice=world.practice)
    assert (membership.role, membership.credential, membership.rule_class) == (
        "coordinator",
        "RN",
        "clinical_staff",
    )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["nina@example.org"]
    assert link in mailoutbox[0].body
    [event] = events("user.invited")
    assert event.actor_username == "riverside-admin" and event.practice == world.practice
    assert event.details["new_account"] is True and event.details["role"] == "coordinator"


def test_the_link_sets_a_valid_password_activates_and_works_only_once(
    world: PracticeWorld, client: Client
) -> None:
    invitation = invite_member(
        actor=world.user("admin"),
        practice=world.practice,
        username="nina",
        email="nina@example.org",
        role="coordinator",
        credential="RN",
        now=NOW,
    )
    path = reverse("user-invite-accept", args=[invitation.uidb64, invitation.token])
    assert client.get(path).status_code == 200
    weak = client.post(path, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    assert "too short" in weak.content.decode()
    assert not User.objects.get(username="nina").is_active
    done = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("login")
    nina = User.objects.get(username="nina")
    assert nina.is_active and nina.check_password(PASSWORD)
    assert [e.practice for e in events("user.password_set")] == [world.practice]
    # One time only: the password is part of the token.
    assert client.get(path).status_code == 400
    assert ModelBackend().authenticate(None, username="nina", password=PASSWORD) == nina


def test_the_link_expires(world: PracticeWorld, client: Client) -> None:
    with time_machine.travel(NOW, tick=False):
        invitation = invite_member(
            actor=world.user("admin"),
            practice=world.practice,
            username="nina",
            email="nina@example.org",
            role="coordinator",
            credential="RN",
            now=NOW,
        )
    path = reverse("user-invite-accept", args=[invitation.uidb64, invitation.token])
    with time_machine.travel(NOW + dt.timedelta(days=4), tick=False):
        response = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 400
    assert not User.objects.get(username="nina").is_active


def test_a_wrong_link_is_refused(world: PracticeWorld, client: Client) -> None:
    assert client.get("/invitation/Mg/not-a-token/").status_code == 400
    assert client.get("/invitation/%25%25/x-y/").status_code == 400


def test_an_existing_account_is_added_by_email_without_a_link(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    someone = other_world.user("coordinator")
    someone.email = "shared@example.org"
    someone.save()
    invitation = invite_member(
        actor=world.user("admin"),
        practice=world.practice,
        username="",
        email="SHARED@example.org",
        role="biller",
        credential="other",
        now=NOW,
    )
    assert invitation.membership.user == someone and not invitation.new_account
    assert invitation.token is None
    assert Membership.objects.filter(user=someone).count() == 2


def test_inviting_a_member_twice_names_the_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    response = client.post(
        reverse("user-invite"),
        {"username": "riverside-biller", "role": "biller", "credential": "other"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == [
        "This person is already a member of the practice."
    ]
    with pytest.raises(ValidationError) as refused:
        invite_member(
            actor=world.user("admin"),
            practice=world.practice,
            username="newbie",
            email="",
            role="biller",
            credential="other",
            now=NOW,
        )
    assert "email" in refused.value.message_dict


# --- roles ----------------------------------------------------------------------------------


def test_changing_a_role_and_credential_is_audited_with_before_and_after(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    member = world.members["coordinator"]
    response = login(world, "admin").post(
        reverse("user-edit", args=[member.pk]),
        {"role": "manager", "credential": "NP", "rule_class": ""},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.credential, member.rule_class) == ("manager", "NP", "physician_qhp")
    [event] = events("membership.role_changed")
    assert event.details["changed"] == {
        "role": ["coordinator", "manager"],
        "credential": ["RN", "NP"],
        "rule_class": ["clinical_staff", "physician_qhp"],
    }


def test_the_last_admin_can_neither_demote_nor_deactivate_themselves(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    admin = world.members["admin"]
    client = login(world, "admin")
    response = client.post(
        reverse("user-edit", args=[admin.pk]), {"role": "manager", "credential": "other"}
    )
    assert response.status_code == 400
    assert "last admin" in response.content.decode()
    client.post(reverse("user-active", args=[admin.pk]), {"active": "0"})
    client.post(reverse("user-active", args=[admin.pk]), {"active": "0", "scope": "account"})
    admin.refresh_from_db()
    assert admin.role == "admin" and admin.is_active and admin.user.is_active
    assert events("membership.role_changed") == events("membership.deactivated") == []
    # With a second admin, stepping down is fine.
    change_membership(
        actor=admin.user,
        membership=world.members["manager"],
        role="admin",
        credential="other",
        now=NOW,
    )
    change_membership(
        actor=admin.user, membership=admin, role="manager", credential="other", now=NOW
    )
    assert Membership.objects.get(pk=admin.pk).role == "manager"


# --- deactivation ---------------------------------------------------------------------------


def _live_token(user: User) -> str:
    key, key_hash = ApiToken.new_key()
    now = timezone.now()
    ApiToken.objects.create(
        user=user, key_hash=key_hash, created_at=now, expires_at=now + dt.timedelta(hours=1)
    )
    return key


def test_deactivating_a_membership_ends_sessions_and_tokens_at_once(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    coordinator = world.user("coordinator")
    their_browser = signed_in_client(coordinator)
    assert their_browser.get(reverse("patient-list")).status_code == 200
    key = _live_token(coordinator)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/patients").status_code == 200

    member = world.members["coordinator"]
    response = login(world, "admin").post(reverse("user-active", args=[member.pk]), {"active": "0"})
    assert response.status_code == 302

    member.refresh_from_db()
    assert not member.is_active and User.objects.get(pk=coordinator.pk).is_active
    assert their_browser.get(reverse("patient-list")).status_code == 302  # to the sign-in page
    assert api.get("/api/v1/patients").status_code == 401
    assert not ApiToken.objects.filter(user=coordinator, revoked_at__isnull=True).exists()
    [event] = events("membership.deactivated")
    assert event.details["sessions_ended"] >= 1 and event.details["tokens_revoked"] == 1
    assert Membership.objects.filter(pk=member.pk).exists()  # nothing is deleted

    set_membership_active(actor=world.user("admin"), membership=member, active=True, now=NOW)
    assert Membership.objects.get(pk=member.pk).is_active
    assert len(events("membership.reactivated")) == 1


def test_deactivating_an_account_blocks_sign_in_and_is_reversible(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    biller = world.user("biller")
    their_browser = signed_in_client(biller)
    client = login(world, "admin")
    member = world.members["biller"]
    client.post(reverse("user-active", args=[member.pk]), {"active": "0", "scope": "account"})
    biller.refresh_from_db()
    assert not biller.is_active
    assert ModelBackend().authenticate(None, username=biller.username, password=PASSWORD) is None
    assert their_browser.get(reverse("patient-list")).status_code == 302
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(biller.pk) for s in Session.objects.all()
    )
    assert len(events("user.deactivated")) == 1
    client.post(reverse("user-active", args=[member.pk]), {"active": "1", "scope": "account"})
    biller.refresh_from_db()
    assert biller.is_active and len(events("user.reactivated")) == 1


def test_an_account_that_also_works_elsewhere_is_deactivated_per_membership(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    shared = other_world.user("coordinator")
    invitation = invite_member(
        actor=world.user("admin"),
        practice=world.practice,
        username=shared.username,
        email="",
        role="coordinator",
        credential="RN",
        now=NOW,
    )
    with pytest.raises(ValidationError) as refused:
        set_account_active(
            actor=world.user("admin"), membership=invitation.membership, active=False, now=NOW
        )
    assert "another practice" in str(refused.value)
    assert User.objects.get(pk=shared.pk).is_active


# --- break-glass ----------------------------------------------------------------------------


def grant(world: PracticeWorld, role: str = "auditor", **kwargs: object) -> BreakGlassGrant:
    values: dict[str, object] = {
        "actor": world.user("admin"),
        "membership": world.members["biller"],
        "role": role,
        "reason": "Payer audit due today; the auditor is out sick.",
        "hours": 2,
        "now": timezone.now(),
    }
    values.update(kwargs)
    return grant_break_glass(**values)  # type: ignore[arg-type]


def test_break_glass_is_granted_from_the_page_with_a_required_reason(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    url = reverse("user-break-glass", args=[world.members["biller"].pk])
    refused = client.post(url, {"role": "auditor", "hours": 2, "reason": "   "})
    assert refused.status_code == 400
    too_long = client.post(url, {"role": "auditor", "hours": 25, "reason": "x"})
    assert too_long.status_code == 400
    assert client.post(url, {"role": "auditor", "hours": 2, "reason": "Audit"}).status_code == 302
    given = BreakGlassGrant.objects.get()
    assert given.expires_at - given.starts_at == dt.timedelta(hours=2)
    assert given.granted_by == world.user("admin") and given.reason == "Audit"
    [event] = events("breakglass.granted")
    assert event.details["grant"] == given.pk and event.details["reason"] == "Audit"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"hours": 0}, "hours"),
        ({"hours": 25}, "hours"),
        ({"role": "biller"}, "role"),
        ({"role": "superuser"}, "role"),
        ({"membership": "admin"}, "user"),
    ],
)
def test_break_glass_refuses_bad_grants_naming_the_field(
    world: PracticeWorld, changes: dict[str, object], field: str
) -> None:
    if changes.get("membership") == "admin":
        changes = {"membership": world.members["admin"], "role": "manager"}
    with pytest.raises(ValidationError) as refused:
        grant(world, **changes)
    assert field in refused.value.message_dict
    assert not BreakGlassGrant.objects.exists()


def test_a_member_holds_one_grant_at_a_time(world: PracticeWorld) -> None:
    grant(world)
    with pytest.raises(ValidationError, match="already holds"):
        grant(world, role="manager")


def test_break_glass_adds_the_role_shows_a_banner_and_audits_every_request(
    world: PracticeWorld,
) -> None:
    biller = signed_in_client(world.user("biller"))
    assert biller.get(reverse("audit-log")).status_code == 403
    given = grant(world)
    response = biller.get(reverse("audit-log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="break-glass-banner"' in html and f"grant #{given.pk}" in html
    biller.get(reverse("patient-list"))
    used = events("breakglass.used")
    assert [(e.details["grant"], e.details["path"]) for e in used] == [
        (given.pk, "/audit/"),
        (given.pk, "/patients/"),
    ]
    assert all(
        e.actor_username == "riverside-biller" and e.object_id == str(given.pk) for e in used
    )


def test_break_glass_is_honoured_by_the_api_and_audited_there(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    api = api_client(world.user("biller"))
    assert api.get("/api/v1/audit-events").status_code == 403
    given = grant(world)
    assert api.get("/api/v1/audit-events").status_code == 200
    [used] = events("breakglass.used")
    assert used.details == {
        "grant": given.pk,
        "role": "auditor",
        "method": "GET",
        "path": "/api/v1/audit-events",
        "permission": "audit.view",
    }


def test_break_glass_expires_by_itself(world: PracticeWorld) -> None:
    biller = signed_in_client(world.user("biller"))
    grant(world, hours=1)
    assert biller.get(reverse("audit-log")).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        # A fresh sign-in: the old session has meanwhile passed its idle limit.
        biller = signed_in_client(world.user("biller"))
        response = biller.get(reverse("patient-list"))
        assert response.status_code == 200
        assert "break-glass-banner" not in response.content.decode()
        assert biller.get(reverse("audit-log")).status_code == 403
    assert len(events("breakglass.used")) == 1


def test_break_glass_can_be_ended_early_by_its_holder_or_an_admin(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    biller = signed_in_client(world.user("biller"))
    first = grant(world)
    assert biller.post(reverse("break-glass-end", args=[first.pk])).status_code == 302
    first.refresh_from_db()
    assert first.ended_by == world.user("biller") and first.ended_at is not None
    assert biller.get(reverse("audit-log")).status_code == 403
    second = grant(world)
    # A colleague without users.manage may not end someone else's grant.
    manager = signed_in_client(world.user("manager"))
    assert manager.post(reverse("break-glass-end", args=[second.pk])).status_code == 403
    assert (
        login(world, "admin").post(reverse("break-glass-end", args=[second.pk])).status_code == 302
    )
    ended = events("breakglass.ended")
    assert [(e.details["grant"], e.details["by_holder"]) for e in ended] == [
        (first.pk, True),
        (second.pk, False),
    ]
    second.refresh_from_db()
    with pytest.raises(ValidationError, match="already ended"):
        end_break_glass(actor=world.user("admin"), grant=second, now=timezone.now())


def test_deactivating_a_member_ends_their_break_glass(world: PracticeWorld) -> None:
    given = grant(world)
    set_membership_active(
        actor=world.user("admin"),
        membership=world.members["biller"],
        active=False,
        now=timezone.now(),
    )
    given.refresh_from_db()
    assert given.ended_at is not None and given.ended_by == world.user("admin")


def test_the_users_page_lists_grants_and_their_state(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    given = grant(world)
    html = login(world, "admin").get(reverse("user-list")).content.decode()
    assert f'id="grant-{given.pk}"' in html and "in force" in html
    assert "break-glass: Compliance auditor" in html


def test_a_mail_server_that_is_down_leaves_the_invitation_and_its_link_on_the_page(
    world: PracticeWorld, login, monkeypatch, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr("careledger.accounts.users.send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world, "admin").post(
            reverse("user-invite"),
            {
                "username": "nina",
                "email": "nina@example.org",
                "role": "biller",
                "credential": "other",
            },
        )
    assert response.status_code == 200 and invite_link(response.content.decode())
    assert User.objects.filter(username="nina").exists()
    assert "ConnectionRefusedError" in caplog.text and "nina@example.org" not in caplog.text
