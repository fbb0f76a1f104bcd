"""Time entries and the live patient month."""

from ninja import Router

router = Router(tags=["time"])
