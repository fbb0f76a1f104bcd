"""Case 10: schema fuzzing with schemathesis over the whole OpenAPI document.

Every operation gets a bounded number of generated requests (valid and invalid) sent in-process
to the Django WSGI app with a manager's bearer token for a seeded practice. Pass: no 5xx, every
status code is documented, every body matches its schema.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from careledger.accounts.models import ApiToken
from careledger.api.main import api
from tests.conftest import PracticeWorld

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def bearer(world: PracticeWorld) -> dict[str, str]:
    """Return the Authorization header for a manager of the seeded practice."""
    key, key_hash = ApiToken.new_key()
    now = timezone.now()
    ApiToken.objects.create(
        user=world.user("manager"),
        key_hash=key_hash,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {key}"}


# The API's own OpenAPI document, called in-process through the WSGI app (no network).
schema = schemathesis.openapi.from_dict(dict(api.get_openapi_schema(path_prefix="/api/v1")))


@pytest.fixture(scope="module")
def wsgi_app() -> Iterator[Any]:
    """Return the Django WSGI app, keeping the test's database connection open between calls.

    A real request ends by closing old connections; inside a test that would close the
    connection holding the test's transaction (PostgreSQL), so, as Django's test client does,
    the connection handling is unhooked while the app is called in-process.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_only_documented_statuses_with_conforming_bodies(
    case: Any, bearer: dict[str, str], wsgi_app: Any
) -> None:
    response = case.call(app=wsgi_app, headers=bearer)
    case.validate_response(response, checks=CHECKS)


def test_a_body_that_is_not_json_answers_422_naming_the_body(
    api_client: Any, world: PracticeWorld
) -> None:
    response = api_client(world.user("manager")).post(
        "/api/v1/time-entries", data=b"\x81{not json", content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body is not valid JSON."}
    ]
