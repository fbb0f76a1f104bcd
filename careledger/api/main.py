"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.throttling import AuthRateThrottle

from careledger.api import (
    audit,
    auth_token,
    billing,
    careplans,
    devices,
    patients,
    programs,
    records,
    timelog,
    users,
    worklists,
)
from careledger.api.auth import TokenAuth
from careledger.api.errors import install_error_handlers

api = NinjaAPI(
    title="careledger API",
    version="1",
    description="Care-management records and billing for Medicare CCM, PCM, RPM/RTM, BHI/CoCM "
    "and APCM programs. Authenticate with POST /auth/token, then `Authorization: Bearer`.",
    auth=TokenAuth(),
    throttle=[AuthRateThrottle("600/m")],
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/auth", auth_token.router)
api.add_router("/patients", patients.router)
api.add_router("/audit-events", audit.router)
api.add_router("", timelog.router)
api.add_router("", careplans.router)
api.add_router("", devices.router)
api.add_router("", worklists.router)
api.add_router("", billing.router)
api.add_router("", programs.router)
api.add_router("", users.router)
api.add_router("", records.router)
