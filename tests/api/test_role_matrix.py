"""Case 4: a table of role x endpoint x method, each cell as the permission matrix says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

ROLES = ["coordinator", "practitioner", "manager", "biller", "auditor", "admin"]
WRITERS = {"coordinator", "practitioner", "manager", "admin"}

# (method, path, body, roles allowed). Bodies may be invalid: an allowed role then gets 422,
# which still proves the permission check passed; a refused role must get exactly 403.
CELLS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("get", "/api/v1/patients", None, set(ROLES)),
    ("get", "/api/v1/patients/{pid}", None, set(ROLES)),
    ("get", "/api/v1/patients/{pid}/conditions", None, set(ROLES)),
    ("get", "/api/v1/patients/{pid}/enrollments", None, set(ROLES)),
    ("get", "/api/v1/patients/{pid}/months/2026-04", None, set(ROLES)),
    ("get", "/api/v1/time-entries?patient_id={pid}", None, set(ROLES)),
    ("post", "/api/v1/patients", {}, WRITERS),
    ("post", "/api/v1/patients/{pid}/conditions", {}, WRITERS),
    ("post", "/api/v1/patients/{pid}/enrollments", {}, WRITERS),
    ("post", "/api/v1/time-entries", {}, WRITERS),
    ("get", "/api/v1/audit-events", None, {"auditor", "admin"}),
    ("get", "/api/v1/users", None, {"admin"}),
    ("post", "/api/v1/users", {}, {"admin"}),
    ("get", "/api/v1/break-glass", None, {"admin"}),
    ("post", "/api/v1/break-glass", {}, {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_cell_of_the_role_matrix(world: PracticeWorld, api_client, role: str) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user(role))
    for method, path, body, allowed in CELLS:
        url = path.format(pid=world.patient.pk)
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, body, content_type="application/json")
        if role in allowed:
            assert response.status_code in (200, 201, 422), (method, url, response.status_code)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
