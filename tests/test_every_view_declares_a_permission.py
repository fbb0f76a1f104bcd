"""Deny by default: every URL's view declares who may use it (case 4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from careledger.accounts.roles import PERMISSIONS
from careledger.api.main import api

# Views that bring their own checks: Django's admin (staff only) and the API's documents.
EXEMPT_PREFIXES = ("admin/",)
DECLARATIONS = {"public", "signed_in", *PERMISSIONS}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def test_every_page_view_declares_a_permission() -> None:
    missing = []
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIXES) or route.startswith("api/v1/"):
            continue
        view = getattr(callback, "view_class", None) or callback
        declared = getattr(callback, "careledger_permission", None) or getattr(
            view, "careledger_permission", None
        )
        if declared not in DECLARATIONS:
            missing.append(route)
    assert missing == [], f"views without a declared permission: {missing}"


def test_every_api_operation_declares_a_permission() -> None:
    missing = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                declared = getattr(operation.view_func, "careledger_permission", None)
                if declared not in DECLARATIONS:
                    missing.append(f"{operation.methods} {prefix}{path}")
    assert missing == [], f"API operations without a declared permission: {missing}"


def test_the_api_walk_sees_the_operations() -> None:
    count = sum(
        len(path_view.operations)
        for _, router in api._routers
        for path_view in router.path_operations.values()
    )
    assert count >= 10
