"""The permissions device pages and endpoints declare.

``accounts.roles.PERMISSIONS`` owns the matrix. Until it lists the device permissions, each
falls back to an existing one that grants the same roles (API.md: coordinators, practitioners,
managers and admins post readings; billers and auditors get 403).
"""

from __future__ import annotations

from careledger.accounts.roles import PERMISSIONS


def _declared(name: str, fallback: str) -> str:
    return name if name in PERMISSIONS else fallback


DEVICE_VIEW = _declared("device.view", "patient.view")
DEVICE_EDIT = _declared("device.edit", "patient.edit")
READING_POST = _declared("reading.post", "patient.edit")
READING_EXCLUDE = _declared("reading.exclude", "patient.edit")
ALERT_VIEW = _declared("alert.view", "patient.view")
ALERT_WORK = _declared("alert.work", "patient.edit")
