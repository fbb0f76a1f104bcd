"""Close a month for many practices at once, optionally in several worker processes.

A health system closes every practice at month end. Each practice closes in its own
transaction exactly as ``close_month`` closes one (its own billing-month row lock, lines and
audit event), so practices are independent: on PostgreSQL they run side by side in ``workers``
forked processes, each with its own connection, largest practice first. SQLite allows one
writer at a time (careledger opens its transactions IMMEDIATE), so there a second worker would
only wait: it closes practices one after another.

``dry_run`` closes and rolls back: the summaries say what would be stored; nothing is.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Count

from careledger.accounts.models import Practice, User
from careledger.billing.close import MonthAlreadyApproved, close_month
from careledger.billing.months import parse_month


class ParallelCloseRefused(ValueError):
    """More than one worker was asked for on a database that takes one writer."""


@dataclass(frozen=True)
class PracticeClosed:
    """One practice's close: its summary (``CloseSummary.as_dict``) or why it was skipped."""

    slug: str
    summary: dict[str, Any] | None
    skipped: str
    statements: int
    seconds: float
    # The process that closed it, and that process's peak memory so far.
    worker: int
    peak_rss_mib: float

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"practice": self.slug}
        if self.summary is not None:
            out.update(self.summary)
        if self.skipped:
            out["skipped"] = self.skipped
        return out


def close_practices(
    *,
    slugs: Sequence[str],
    month_label: str,
    now: datetime,
    actor: User | None = None,
    workers: int = 1,
    dry_run: bool = False,
) -> list[PracticeClosed]:
    """Close ``month_label`` for each practice; return what each stored, in ``slugs`` order."""
    if workers > 1 and connection.vendor != "postgresql":
        raise ParallelCloseRefused(
            f"--workers {workers}: {connection.vendor} takes one writer at a time; "
            "close in one worker (or use PostgreSQL)."
        )
    # Largest first, so that the last practice to finish is a small one.
    sizes = dict(
        Practice.objects.filter(slug__in=slugs)
        .annotate(patient_count=Count("patients"))
        .values_list("slug", "patient_count")
    )
    order = sorted(slugs, key=lambda slug: (-sizes.get(slug, 0), slug))
    actor_id = None if actor is None else actor.pk
    if workers <= 1:
        done = [_close_one(slug, month_label, now, actor_id, dry_run) for slug in order]
    else:
        # Forked workers must not share the parent's connection: each opens its own.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            done = list(
                pool.map(
                    _close_one,
                    order,
                    [month_label] * len(order),
                    [now] * len(order),
                    [actor_id] * len(order),
                    [dry_run] * len(order),
                )
            )
    by_slug = {closed.slug: closed for closed in done}
    return [by_slug[slug] for slug in slugs]


def _close_one(
    slug: str, month_label: str, now: datetime, actor_id: int | None, dry_run: bool
) -> PracticeClosed:
    practice = Practice.objects.get(slug=slug)
    actor = None if actor_id is None else User.objects.get(pk=actor_id)
    month = parse_month(month_label, practice.timezone)
    count = [0]

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    summary: dict[str, Any] | None = None
    skipped = ""
    try:
        with connection.execute_wrapper(counter), transaction.atomic():
            summary = close_month(practice=practice, month=month, actor=actor, now=now).as_dict()
            if dry_run:
                transaction.set_rollback(True)
    except MonthAlreadyApproved as error:
        skipped = str(error)
    return PracticeClosed(
        slug=slug,
        summary=summary,
        skipped=skipped,
        statements=count[0],
        seconds=time.perf_counter() - started,
        worker=os.getpid(),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
