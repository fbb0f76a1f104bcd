"""``field__in_ids=[...]``: a large set of ids as ONE query parameter.

``field__in=ids`` compiles one placeholder per id: Django prepares every value, the driver
splits a statement of thousands of placeholders, and SQLite refuses more than 32,766 of them
(about 30,000 patients in one practice). A month close passes every patient of a practice to
a dozen queries, so it sends the ids once per query as one value instead: a PostgreSQL array
(``= ANY(%s)``, which the planner treats like an IN list and serves from an index) or, on
SQLite, a JSON array read with ``json_each``. Same rows as ``__in``; ids must be integers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db.models import Field, ForeignObject, Lookup


class InIds(Lookup):  # type: ignore[type-arg]
    lookup_name = "in_ids"
    # The ids go to the database as they are (one array), not through get_prep_value each.
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql, param = id_array(self.rhs, connection.vendor)
        return f"{lhs} {sql}", [*lhs_params, param]


def register() -> None:
    """Make ``__in_ids`` available on every field (called once from an AppConfig.ready)."""
    Field.register_lookup(InIds)
    # Relations look their lookups up only from ForeignObject down.
    ForeignObject.register_lookup(InIds)


def id_array(ids: Iterable[int], vendor: str) -> tuple[str, Any]:
    """Return SQL (``IN ...``/``= ANY``) and its one parameter for raw SQL over ``ids``."""
    values = [int(value) for value in ids]
    if vendor == "postgresql":
        return "= ANY(%s::bigint[])", values
    return "IN (SELECT value FROM json_each(%s))", json.dumps(values)
