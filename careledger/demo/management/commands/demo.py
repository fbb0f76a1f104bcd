"""``careledger demo [--patients N] [--seed S] [--scale health-system] [--practices K]``.

Load the demo practices, logins and patients; with ``--scale`` or ``--practices``, a synthetic
health system of K generated practices (``careledger.demo.scale``).
"""

from __future__ import annotations

import argparse
import io
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from careledger.demo.data import DEMO_PASSWORD, PRACTICES, RIVERSIDE, STAFF
from careledger.demo.loader import DemoConflict, demo_state, load_demo
from careledger.demo.plan import MIN_PATIENTS, plan_demo
from careledger.demo.scale import HEALTH_SYSTEM, ScalePlan, load_scale, scale_state

DEFAULT_PATIENTS = 200
PROGRESS_FROM = 100  # patients; smaller demos load in a moment


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Load the demo practices, logins (password 'demo') and synthetic patients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help="patients in total: Riverside 90%%, Lakeside 10%% (default 200; with --scale, "
            "100,000 over the generated practices)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--scale",
            choices=["health-system"],
            default=None,
            help="a health system: 50 practices, 400 coordinators, 100,000 patients "
            "(--patients and --practices override the sizes)",
        )
        parser.add_argument(
            "--practices",
            type=int,
            default=None,
            help="spread the patients over this many generated practices (bulk loaded)",
        )
        # Hidden: pins "today" so tests and screenshots get the same dates every day.
        parser.add_argument("--today", type=_day, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] or options["practices"] is not None:
            self._load_scale(options)
            return
        patients: int = options["patients"] or DEFAULT_PATIENTS
        if patients < MIN_PATIENTS:
            raise CommandError(f"--patients must be at least {MIN_PATIENTS}", returncode=2)
        state = demo_state()
        if state == "partial":
            raise CommandError(
                "part of the demo is in this database (one demo practice without the other); "
                "load it into a fresh database",
                returncode=2,
            )
        if state == "loaded":
            self.stderr.write("demo already loaded; nothing to do")
            self.stdout.write(_logins_table())
            return

        today, now = _today_and_now(options["today"])
        plan = plan_demo(patients=patients, seed=options["seed"], today=today)

        console = Console(stderr=True)
        with Progress(
            TextColumn("loading demo patients"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=patients < PROGRESS_FROM or not console.is_terminal,
        ) as progress:
            task = progress.add_task("patients", total=len(plan.patients))
            try:
                result = load_demo(plan=plan, now=now, on_patient=lambda: progress.advance(task))
            except DemoConflict as exc:
                raise CommandError(str(exc), returncode=2) from None

        self.stderr.write(
            f"demo loaded for {today.isoformat()} (seed {plan.seed}): {result.practices} "
            f"practices, {result.users} logins, {result.patients} patients, "
            f"{result.conditions} conditions, {result.visits} visits, "
            f"{result.enrollments} enrollments, {result.time_entries} time entries, "
            f"{result.care_plans} care plans ({result.care_plan_versions} versions), "
            f"{result.devices} devices, {result.readings} readings, {result.alerts} alerts, "
            f"{result.setup_events} set-up events, {result.cocm_episodes} CoCM episodes, "
            f"{result.mdm_records} MDM records, {result.rating_scales} rating scales, "
            f"{result.bhi_elements} BHI element records, "
            f"{result.apcm_attestations} APCM attestations"
        )
        self.stdout.write(_logins_table())

    def _load_scale(self, options: dict[str, Any]) -> None:
        sizes = dict(HEALTH_SYSTEM) if options["scale"] else {"patients": DEFAULT_PATIENTS}
        if options["practices"] is not None:
            sizes["practices"] = options["practices"]
        if options["patients"] is not None:
            sizes["patients"] = options["patients"]
        practices = sizes.get("practices", HEALTH_SYSTEM["practices"])
        if practices < 1:
            raise CommandError("--practices must be at least 1", returncode=2)
        if sizes["patients"] < practices:
            raise CommandError(
                f"--patients ({sizes['patients']}) must be at least --practices ({practices})",
                returncode=2,
            )
        if scale_state() == "loaded":
            self.stderr.write("a health system is already loaded; nothing to do")
            return
        today, now = _today_and_now(options["today"])
        plan = ScalePlan(
            patients=sizes["patients"], practices=practices, seed=options["seed"], today=today
        )
        console = Console(stderr=True)
        with Progress(
            TextColumn("loading health system: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("patients", total=plan.patients)

            def advance(stage: str, count: int) -> None:
                if stage == "patients":
                    progress.advance(task, count)
                progress.update(task, description=f"{stage} ({count:,} in the last practice)")

            result = load_scale(plan=plan, now=now, on_progress=advance)
        self.stderr.write(
            f"health system loaded for {today.isoformat()} (seed {plan.seed}): "
            f"{result.practices} practices, {result.users} logins, {result.patients} patients, "
            f"{result.enrollments} enrollments, {result.conditions} conditions, "
            f"{result.visits} visits, {result.devices} devices, "
            f"{result.time_entries} time entries, {result.readings} readings"
        )


def _today_and_now(today: date | None) -> tuple[date, datetime]:
    if today is None:
        now = timezone.now()
        return now.astimezone(ZoneInfo(PRACTICES[RIVERSIDE]["timezone"])).date(), now
    # 17:00 UTC falls on the same calendar day in Chicago and New York.
    return today, datetime.combine(today, time(17, 0), tzinfo=UTC)


def _logins_table() -> str:
    table = Table(
        title=f"Demo logins (password: {DEMO_PASSWORD})", title_justify="left", box=box.SIMPLE
    )
    for column in ("username", "practice", "role", "credential"):
        table.add_column(column)
    for staff in STAFF:
        table.add_row(
            staff.username, PRACTICES[staff.practice]["name"], staff.role, staff.credential
        )
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None, legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n")
