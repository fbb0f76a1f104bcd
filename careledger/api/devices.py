"""Devices, readings, the vendor webhook and alerts."""

from ninja import Router

router = Router(tags=["devices"])
