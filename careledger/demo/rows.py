"""Write many rows fast: COPY on PostgreSQL, ``executemany`` on SQLite (the scale loader's path).

The ORM builds a model instance per row; at health-system scale (millions of readings) that is
most of the load's time. ``RowWriter`` takes plain tuples for the columns a loader varies and
fills every other column from the model's own default, so a field added later with a default
needs no change here; a field without one is named in the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models

SQLITE_BATCH = 5_000


class MissingColumn(Exception):
    """A column has no value and no default: the loader must supply it."""


def _sqlite_value(value: Any) -> Any:
    # Django's SQLite backend stores datetimes as naive UTC text and dates as ISO text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class RowWriter:
    """Insert rows of one model given as tuples in the order of ``fields``."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.model = model
        self.fields = tuple(fields)
        meta = model._meta
        named: list[Any] = [meta.get_field(name) for name in self.fields]
        given = {field.column for field in named}
        self.constants: list[tuple[str, Any]] = []
        for field in meta.concrete_fields:
            if field.column in given or (field.primary_key and field.name not in self.fields):
                continue
            if field.null:
                value = None
            elif field.has_default():
                value = field.get_default()
            elif getattr(field, "blank", False) and isinstance(field, models.CharField):
                value = ""
            else:
                raise MissingColumn(
                    f"{meta.label}.{field.name}: no value given and no default; add it to fields"
                )
            self.constants.append((field.column, value))
        columns: list[str] = [field.column for field in named]
        columns += [column for column, _ in self.constants]
        self.columns = columns
        self.table = str(meta.db_table)
        self.written = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert the rows; return how many were written."""
        constants = tuple(value for _, value in self.constants)
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = f"COPY {connection.ops.quote_name(self.table)} ({quoted}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row((*row, *constants))
                        count += 1
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                table = connection.ops.quote_name(self.table)
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"
                fixed = tuple(_sqlite_value(v) for v in constants)
                batch: list[tuple[Any, ...]] = []
                for row in rows:
                    batch.append((*(_sqlite_value(v) for v in row), *fixed))
                    if len(batch) >= SQLITE_BATCH:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        self.written += count
        return count


def next_id(model: type[models.Model]) -> int:
    """Return the first free primary key of the model's table."""
    found = model.objects.aggregate(top=models.Max("pk"))["top"]  # type: ignore[attr-defined]
    return int(found or 0) + 1


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past rows inserted with explicit ids (SQLite needs none)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    if not statements:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
