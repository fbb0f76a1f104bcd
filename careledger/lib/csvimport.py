"""Read an uploaded CSV the same way for every import: UTF-8, a header row, every problem kept.

Imports validate every row before storing anything, and report each problem by line and field
(``FILE line L, field F: message``). This module reads and checks the table; each import parses
its own cells and calls its own service.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RowProblem:
    """One reason a row (or the file, line 1 for the header) cannot be imported."""

    line: int
    field: str
    message: str


class Unreadable(Exception):
    """The file cannot be read as a UTF-8 CSV at all (not a row problem)."""


@dataclass
class Problems:
    """Every problem found, each once, in the order found."""

    items: list[RowProblem] = field(default_factory=list)

    def add(self, line: int, field_name: str, message: str) -> None:
        problem = RowProblem(line, field_name, message)
        if problem not in self.items:
            self.items.append(problem)


@dataclass(frozen=True)
class Table:
    """The data rows of a CSV whose header passed, as (line, {column: stripped cell})."""

    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]
    count: int  # non-blank data rows, including those with the wrong number of cells


def decode_csv(content: bytes, *, max_bytes: int, error: type[Unreadable] = Unreadable) -> str:
    """Decode the file's bytes as UTF-8, dropping a byte-order mark."""
    if len(content) > max_bytes:
        raise error(f"the file is larger than {max_bytes // (1024 * 1024)} MB; split it")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"the file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    # Line numbers of the record's first physical line, so quoted multi-line cells keep the
    # numbers a spreadsheet shows.
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        yield start, cells


def read_table(
    text: str,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    max_rows: int,
    problems: Problems,
) -> Table:
    """Check the header (known, required, not repeated columns) and read the data rows.

    Blank lines are skipped; a row with the wrong number of cells is a problem. When the header
    has a problem, no rows are returned.
    """
    records = _records(text)
    try:
        header_line, header = next(records)
    except StopIteration:
        problems.add(1, "header", "The file is empty; the first line must name the columns.")
        return Table((), (), 0)
    except csv.Error as exc:
        problems.add(1, "header", f"The header cannot be read as CSV: {exc}.")
        return Table((), (), 0)
    names = tuple(name.strip().lower() for name in header)
    if len(names) > 2 * len(columns) + 10:
        # Case 14: a header of thousands of cells is not a roster; refuse it in one problem
        # rather than one per cell (and the quadratic repeat check below).
        problems.add(
            header_line,
            "header",
            f"The header has {len(names)} columns; use: {', '.join(columns)}.",
        )
        return Table(names[: len(columns)], (), 0)
    for name in names:
        if name not in columns:
            problems.add(
                header_line, name or "header", f"Unknown column; use: {', '.join(columns)}."
            )
    for name in required:
        if name not in names:
            problems.add(header_line, name, "This required column is missing.")
    counts = Counter(names)
    for name in sorted(name for name, count in counts.items() if count > 1):
        problems.add(header_line, name, "This column appears more than once.")
    if problems.items:
        return Table(names, (), 0)
    rows: list[tuple[int, dict[str, str]]] = []
    seen = 0
    line = header_line
    try:
        for line, cells in records:
            if not any(cell.strip() for cell in cells):
                continue
            seen += 1
            if seen > max_rows:
                problems.add(line, "row", f"A file holds at most {max_rows} rows; split it.")
                break
            if len(cells) != len(names):
                problems.add(line, "row", f"Expected {len(names)} cells, found {len(cells)}.")
                continue
            rows.append((line, {n: c.strip() for n, c in zip(names, cells, strict=True)}))
    except csv.Error as exc:
        # csv.Error comes from the record after the last one read.
        problems.add(line + 1, "row", f"Not valid CSV: {exc}.")
    return Table(names, tuple(rows), seen)


def parse_iso_date(raw: str, line: int, name: str, problems: Problems) -> date | None:
    """Read a required YYYY-MM-DD cell, recording a problem when it is not one."""
    if not raw:
        problems.add(line, name, "This field is required (YYYY-MM-DD).")
        return None
    if not _DATE.fullmatch(raw):
        problems.add(line, name, f"{raw!r} is not a date; write YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.add(line, name, f"{raw} is not a calendar date.")
        return None


def refusal(*, rows: int, problems: Sequence[RowProblem]) -> str:
    """Say why nothing was stored: which rows failed, or that the file itself cannot be read."""
    bad_rows = len({p.line for p in problems})
    if bad_rows == 0 or any(p.line == 1 for p in problems):
        return f"stored 0 rows: the file cannot be imported ({len(problems)} problems)"
    noun = "row has" if bad_rows == 1 else "rows have"
    return f"stored 0 of {rows} rows: {bad_rows} {noun} errors"
