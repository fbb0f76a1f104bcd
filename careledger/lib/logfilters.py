"""Keep patient data out of the logs (case 40; ASVS 7.1.1, HIPAA minimum necessary).

Logged messages never carry patient data by construction (paths hold only ids, see
settings.LOGGING). Exceptions are the gap: a database error's text can hold a row's values
(PostgreSQL's ``DETAIL: Key (mbi)=(...)``), a validation error the value it refused. So a
logged exception keeps its type and its traceback (file, line, function, source), which is
what finding the bug needs, and loses its message and its chained causes.
"""

from __future__ import annotations

import logging


class WithheldError(Exception):
    """Stands in for a logged exception whose message was withheld."""


class WithholdExceptionText(logging.Filter):
    """Replace a record's exception by one naming only its type; keep the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, traceback = record.exc_info
            if kind is not WithheldError:
                name = f"{kind.__module__}.{kind.__qualname__}"
                withheld = WithheldError(f"{name} (message withheld: it may hold patient data)")
                record.exc_info = (WithheldError, withheld, traceback)
                record.exc_text = None
        return True
