"""Care plans: current plan, versions, sharings and the patient PDF."""

from ninja import Router

router = Router(tags=["care plans"])
