"""Case 4: role x endpoint x method, table-driven, and deny by default.

Pass: every cell matches the spec (a refused role gets exactly 403, an allowed one never does);
a walk over the URL resolver and the API routers fails on any view without a declared permission.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, get_resolver, path

from careledger.accounts.roles import PERMISSIONS, Role, role_may
from careledger.api.main import api
from tests.conftest import PracticeWorld
from tests.test_every_view_declares_a_permission import DECLARATIONS, EXEMPT_PREFIXES, _walk

pytestmark = pytest.mark.django_db

ROLES = list(Role.values)
ALL = set(ROLES)
WRITERS = {"coordinator", "practitioner", "manager", "admin"}

# The spec, as API.md and PRODUCT.md state it; roles.py must agree with every row.
SPEC: dict[str, set[str]] = {
    "patient.view": ALL,
    "patient.edit": WRITERS,
    "time.log": WRITERS,
    "careplan.view": ALL,
    "careplan.sign": {"practitioner"},
    "reading.post": WRITERS,
    "audit.view": {"auditor", "admin"},
    "month.close": {"manager", "biller"},
    "month.approve": {"manager"},
    "billing.export": {"manager", "biller"},
    "patient.import": {"manager", "admin"},
    "time.import": {"manager", "admin"},
}

# Pages whose GET shows a practice's data but whose POST changes it: the POST cell needs more.
POST_PERMISSIONS = {
    "/worklists/pre-close/assign/": "worklist.assign",
    "/worklists/fees/": "worklist.assign",
}

_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
_API_PARAM = re.compile(r"\{(?P<name>\w+)\}")


def _value(name: str, world: PracticeWorld) -> str:
    if name == "patient_id":
        return str(world.patient.pk)
    if name == "month":
        return "2026-04"
    if name in ("key", "vendor"):
        return "hypertension"
    if name == "number":
        return "1"
    return "999999"


def _page_cells(world: PracticeWorld) -> list[tuple[str, str]]:
    cells = []
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIXES) or route.startswith("api/v1/"):
            continue
        view = getattr(callback, "view_class", None) or callback
        permission = getattr(callback, "careledger_permission", None) or getattr(
            view, "careledger_permission", None
        )
        if permission in (None, "public", "signed_in"):
            continue
        url = "/" + _CONVERTER.sub(lambda m: _value(m["name"], world), route)
        cells.append((url.replace("^", "").replace("$", ""), permission))
    return cells


def _api_cells(world: PracticeWorld) -> list[tuple[str, str, str]]:
    cells = []
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                permission = getattr(operation.view_func, "careledger_permission", None)
                if permission in (None, "public", "signed_in"):
                    continue
                url = "/api/v1" + prefix.rstrip("/") + route
                url = _API_PARAM.sub(lambda m: _value(m["name"], world), url)
                for method in operation.methods:
                    cells.append((method.lower(), url, permission))
    return cells


def test_the_permission_matrix_matches_the_documented_spec() -> None:
    for permission, roles in SPEC.items():
        assert set(PERMISSIONS[permission]) == roles, permission
    assert not role_may("admin", "no.such.permission")  # unknown permissions are denied


@pytest.mark.parametrize("role", ROLES)
def test_every_api_cell_matches_the_matrix(world: PracticeWorld, api_client, role: str) -> None:  # type: ignore[no-untyped-def]
    client: Client = api_client(world.user(role))
    cells = _api_cells(world)
    assert len(cells) >= 60
    wrong = []
    for method, url, permission in cells:
        call: Any = getattr(client, method)
        response = call(url, {}, content_type="application/json") if method != "get" else call(url)
        allowed = role_may(role, permission)
        if response.status_code >= 500 or (response.status_code == 403) == allowed:
            wrong.append((method, url, permission, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_cell_matches_the_matrix(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    client: Client = login(world, role)
    cells = _page_cells(world)
    assert len(cells) >= 40
    wrong = []
    for url, permission in cells:
        answered = 0
        for method in ("GET", "POST"):
            needed = POST_PERMISSIONS.get(url, permission) if method == "POST" else permission
            allowed = role_may(role, needed)
            response = client.get(url) if method == "GET" else client.post(url, {})
            if response.status_code == 405:  # the view offers no such method: not a cell
                continue
            answered += 1
            if allowed and method == "GET" and url not in POST_PERMISSIONS:
                # Keep the suite fast: an allowed role's POST is only tried on POST-only views.
                assert response.status_code < 500 and response.status_code != 403, url
                break
            if response.status_code >= 500 or (response.status_code == 403) == allowed:
                wrong.append((method, url, response.status_code))
        assert answered, url
    assert wrong == [], "\n".join(map(str, wrong))


def _undeclared(request: Any) -> HttpResponse:
    return HttpResponse("no permission declared")


def test_the_resolver_walk_fails_on_a_view_without_a_declared_permission() -> None:
    patterns: list[Any] = [
        *get_resolver().url_patterns,
        path("sneaky/", _undeclared),
    ]
    found = []
    for route, callback in _walk(patterns):
        if route.startswith(EXEMPT_PREFIXES) or route.startswith("api/v1/"):
            continue
        view = getattr(callback, "view_class", None) or callback
        declared = getattr(callback, "careledger_permission", None) or getattr(
            view, "careledger_permission", None
        )
        if declared not in DECLARATIONS:
            found.append(route)
    assert found == ["sneaky/"]
    assert isinstance(patterns[-1], URLPattern)


def test_anonymous_callers_get_no_page_and_no_api_answer(world: PracticeWorld) -> None:
    client = Client()
    for url, _ in _page_cells(world):
        response = client.get(url)
        if response.status_code != 405:  # POST-only views refuse the method before anything
            assert response.status_code == 302 and "/login/" in response["Location"], url
    for method, url, _ in _api_cells(world):
        call: Any = getattr(client, method)
        response = call(url, {}, content_type="application/json") if method != "get" else call(url)
        assert response.status_code == 401, (method, url)
