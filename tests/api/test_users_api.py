"""/users and /break-glass: the users page's actions for admins, in JSON."""

from __future__ import annotations

import pytest

from careledger.accounts.models import ApiToken, BreakGlassGrant, Membership, User
from careledger.audit.models import AuditEvent
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "biller", "auditor"])
def test_only_admins_use_the_users_api(world: PracticeWorld, api_client, role: str) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user(role))
    member = world.members["coordinator"].pk
    assert client.get("/api/v1/users").status_code == 403
    assert client.post("/api/v1/users", {}, content_type=JSON).status_code == 403
    assert client.patch(f"/api/v1/users/{member}", {}, content_type=JSON).status_code == 403
    assert client.get("/api/v1/break-glass").status_code == 403
    assert client.post("/api/v1/break-glass", {}, content_type=JSON).status_code == 403


def test_admins_list_the_practices_members(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    body = api_client(world.user("admin")).get("/api/v1/users").json()
    assert body["count"] == 6
    assert {item["username"] for item in body["items"]} == {
        f"riverside-{r}"
        for r in ("coordinator", "practitioner", "manager", "biller", "auditor", "admin")
    }
    practitioner = next(i for i in body["items"] if i["role"] == "practitioner")
    assert practitioner["credential"] == "MD" and practitioner["rule_class"] == "physician_qhp"
    assert practitioner["is_active"] and practitioner["account_active"]
    assert not practitioner["invited"]


def test_inviting_returns_the_one_time_link(
    world: PracticeWorld, api_client, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(world.user("admin")).post(
            "/api/v1/users",
            {
                "username": "nina",
                "email": "nina@example.org",
                "role": "coordinator",
                "credential": "RN",
            },
            content_type=JSON,
        )
    assert response.status_code == 201
    body = response.json()
    assert body["invited"] and not body["account_active"] and body["role"] == "coordinator"
    assert body["set_password_link"].startswith("http://testserver/invitation/")
    assert body["set_password_link"] in mailoutbox[0].body
    assert AuditEvent.objects.filter(event="user.invited").count() == 1


def test_a_bad_invitation_names_the_field(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("admin"))
    response = client.post(
        "/api/v1/users",
        {"username": "nina", "email": "nina@example.org", "role": "owner", "credential": "RN"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    response = client.post(
        "/api/v1/users",
        {"username": "riverside-biller", "role": "biller", "credential": "other"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "username", "message": "This person is already a member of the practice."}
    ]


def test_patch_changes_the_role_and_deactivates_revoking_tokens(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    coordinator = world.members["coordinator"]
    their_api = api_client(coordinator.user)
    admin = api_client(world.user("admin"))
    response = admin.patch(
        f"/api/v1/users/{coordinator.pk}", {"role": "manager"}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["role"] == "manager"
    response = admin.patch(
        f"/api/v1/users/{coordinator.pk}", {"is_active": False}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert their_api.get("/api/v1/patients").status_code == 401
    assert not ApiToken.objects.filter(user=coordinator.user, revoked_at__isnull=True).exists()
    events = list(
        AuditEvent.objects.filter(event__startswith="membership.")
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert events == ["membership.role_changed", "membership.deactivated"]


def test_patch_is_all_or_nothing_and_keeps_the_last_admin(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    admin = world.members["admin"]
    client = api_client(admin.user)
    response = client.patch(
        f"/api/v1/users/{admin.pk}", {"role": "manager", "is_active": False}, content_type=JSON
    )
    assert response.status_code == 422
    assert "last admin" in response.json()["errors"][0]["message"]
    admin.refresh_from_db()
    assert admin.role == "admin" and admin.is_active


def test_another_practices_member_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    theirs = other_world.members["coordinator"]
    client = api_client(world.user("admin"))
    response = client.patch(f"/api/v1/users/{theirs.pk}", {"is_active": False}, content_type=JSON)
    assert response.status_code == 404
    assert Membership.objects.get(pk=theirs.pk).is_active
    response = client.post(
        "/api/v1/break-glass",
        {"member_id": theirs.pk, "role": "admin", "reason": "x", "hours": 1},
        content_type=JSON,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "member_id"


def test_break_glass_is_granted_used_and_ended_through_the_api(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    admin = api_client(world.user("admin"))
    biller = api_client(world.user("biller"))
    response = admin.post(
        "/api/v1/break-glass",
        {"member_id": world.members["biller"].pk, "role": "auditor", "reason": "", "hours": 2},
        content_type=JSON,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason"
    response = admin.post(
        "/api/v1/break-glass",
        {
            "member_id": world.members["biller"].pk,
            "role": "auditor",
            "reason": "Audit",
            "hours": 25,
        },
        content_type=JSON,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "hours"
    response = admin.post(
        "/api/v1/break-glass",
        {"member_id": world.members["biller"].pk, "role": "auditor", "reason": "Audit", "hours": 2},
        content_type=JSON,
    )
    assert response.status_code == 201
    grant = response.json()
    assert grant["in_force"] and grant["username"] == "riverside-biller"
    assert biller.get("/api/v1/audit-events").status_code == 200
    # Someone else without users.manage may not end it; its holder may.
    manager = api_client(world.user("manager"))
    assert manager.post(f"/api/v1/break-glass/{grant['id']}/end").status_code == 403
    ended = biller.post(f"/api/v1/break-glass/{grant['id']}/end")
    assert ended.status_code == 200 and ended.json()["in_force"] is False
    assert ended.json()["ended_by"] == "riverside-biller"
    assert biller.get("/api/v1/audit-events").status_code == 403
    listed = admin.get("/api/v1/break-glass").json()
    assert [g["id"] for g in listed["items"]] == [grant["id"]]
    assert BreakGlassGrant.objects.get().ended_at is not None
    assert User.objects.get(username="riverside-biller").is_active
