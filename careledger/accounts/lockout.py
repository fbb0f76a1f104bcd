"""What a locked-out caller sees (django-axes): nothing that tells whether the account exists."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# The same words the token endpoint uses for any refused sign-in, so a lockout (which also
# happens for usernames that do not exist) reveals nothing about accounts.
GENERIC_REFUSAL = "Unable to sign in with those credentials."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """Answer a locked-out sign-in: JSON for the API, the lockout page for people."""
    if request.path.startswith("/api/"):
        body = json.dumps({"detail": GENERIC_REFUSAL, "errors": []})
        return HttpResponse(body, status=401, content_type="application/json")
    html = render_to_string("registration/locked_out.html", request=request)
    return HttpResponse(html, status=403)
