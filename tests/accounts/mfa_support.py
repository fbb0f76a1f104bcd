"""Helpers for MFA tests: an independent RFC 6238 code generator and a quick enrolment."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from allauth.mfa.models import Authenticator
from django.test import Client
from django.utils import timezone

from careledger.accounts import mfa
from careledger.accounts.models import User
from tests.conftest import PASSWORD


def totp(secret: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """Return the RFC 6238 (HMAC-SHA1) code for a base32 secret at a Unix time."""
    counter = int((time.time() if at is None else at) // step)
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def enrol(user: User, secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") -> list[str]:
    """Enrol the user with a known secret, as the enrolment page does; return recovery codes.

    The confirming code is taken one step back, so the current code stays unused for the test.
    """
    return mfa.enrol_totp(
        user=user,
        secret=secret,
        code=totp(secret, at=time.time() - 30),
        source_ip=None,
        now=timezone.now(),
    )


def secret_of(user: User) -> str:
    """Return the user's stored TOTP secret (allauth stores it as given: no adapter encryption)."""
    found = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return str(found.data["secret"])


def password_step(client: Client, user: User) -> None:
    """Pass the password step of the sign-in; the code step is next."""
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/login/mfa/"
