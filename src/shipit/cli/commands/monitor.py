"""``shipit monitor [--once]``: scheduled analysis, alerts, notifications, automatic rollback."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

from shipit.cli.commands._registry import DatabaseUrl, registry

if TYPE_CHECKING:
    from shipit.operate.monitor import MonitorRun

DashboardUrl = Annotated[
    str,
    typer.Option(
        "--dashboard-url",
        envvar="SHIPIT_DASHBOARD_URL",
        help="Base URL of the dashboard, for the links in notifications.",
    ),
]


def _print(run: MonitorRun) -> None:
    if not run.ran:
        typer.echo("another monitor holds the lease: nothing done")
        return
    if not run.outcomes:
        typer.echo("no experiment is due")
    for o in run.outcomes:
        if o.status == "error":
            typer.echo(f"{o.key}: error: {o.error}")
            continue
        rules = ", ".join(a.rule for a in o.alerts) or "none"
        extra = "; kill switch turned on" if o.rolled_back else ""
        sent = f"; notified {o.delivered}" + (f", {o.failed} failed" if o.failed else "")
        typer.echo(f"{o.key}: analysed, verdict {o.verdict}; alerts: {rules}{extra}{sent}")
    for u in run.bandit_updates:
        if u.period is not None:
            shares = ", ".join(f"{v} {w:.1%}" for v, w in u.period.weights.items())
            typer.echo(f"{u.key}: bandit period {u.period.number} serves {shares}")
    for r in run.resent:
        how = "delivered" if r.ok else f"failed again: {r.error}"
        typer.echo(f"{r.key}: resent failed delivery {r.of} to {r.url}: {how}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("monitor")
    def monitor(
        once: Annotated[bool, typer.Option("--once", help="One run, then exit.")] = False,
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
        interval: Annotated[
            float, typer.Option("--interval", help="Seconds between runs (without --once).")
        ] = 60.0,
        dashboard_url: DashboardUrl = "",
        database_url: DatabaseUrl = None,
    ) -> None:
        """Analyse every running experiment that is due (spec monitoring.every, default 1d),
        alert on changes, notify the spec's webhooks, and roll back when auto_rollback says."""
        from shipit.cli.commands.analyze import open_store
        from shipit.operate.monitor import Monitor

        repo = registry(database_url)
        mon = Monitor(repo, lambda: open_store(store), dashboard_url=dashboard_url)
        try:
            if once:
                _print(mon.run_once())
                return
            stop = threading.Event()
            try:
                while not stop.is_set():
                    run = mon.run_once()
                    if run.outcomes:  # a quiet run prints nothing in the loop
                        _print(run)
                    stop.wait(interval)
            except KeyboardInterrupt:
                stop.set()
        finally:
            repo.close()
