"""``shipit experiment create|list|show|start|stop|decide|archive``: the registry lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from shipit.cli.commands._registry import Actor, DatabaseUrl, actor_name, registry
from shipit.registry.lifecycle import Decision, Status

if TYPE_CHECKING:
    from shipit.registry import ExperimentRecord

Key = Annotated[str, typer.Argument(help="Experiment key.")]
# Built from the vocabulary, so the help names every value the option accepts.
_DECISION_HELP = "One of " + ", ".join(d.value for d in Decision) + "."


def _line(record: ExperimentRecord) -> str:
    extra = f" ({record.decision})" if record.decision else ""
    phase = f", phase {record.phase.number}" if record.phase else ""
    return f"{record.key}: {record.status}{extra}{phase}"


def register(app: typer.Typer) -> None:
    """Add the ``experiment`` command group to the app."""
    group = typer.Typer(help="Create experiments and move them through their lifecycle.")
    app.add_typer(group, name="experiment")

    @group.command("create")
    def create(
        spec: Annotated[Path, typer.Argument(help="Spec YAML file (one or more experiments).")],
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        """Register the experiments of a spec file as drafts (all of them, or none)."""
        from shipit.spec import load_experiments

        experiments = load_experiments(spec)
        for record in registry(database_url).create_many(experiments, actor_name(actor)):
            typer.echo(f"created {_line(record)}")

    @group.command("list")
    def list_(
        status: Annotated[
            Status | None, typer.Option("--status", help="Only experiments in this state.")
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """List registered experiments."""
        table = Table("key", "status", "decision", "phase", "namespace", "updated")
        for r in registry(database_url).list_experiments(status):
            ns = r.experiment.namespace
            table.add_row(
                r.key,
                r.status.value,
                r.decision.value if r.decision else "",
                str(r.phase.number) if r.phase else "",
                f"{ns.name} {list(ns.range)}" if ns else "",
                r.updated_at.isoformat(timespec="seconds"),
            )
        Console(width=200).print(table)

    @group.command("show")
    def show(key: Key, database_url: DatabaseUrl = None) -> None:
        """Show an experiment: state, phases and its spec as YAML."""
        from shipit.spec import dump_experiment

        repo = registry(database_url)
        record = repo.get(key)
        typer.echo(f"# {_line(record)}")
        for p in repo.phases(key):
            ended = p.ended_at.isoformat(timespec="seconds") if p.ended_at else "now"
            weights = ", ".join(f"{k}={w:g}" for k, w in p.weights.items())
            typer.echo(
                f"# phase {p.number}: {p.started_at.isoformat(timespec='seconds')} - {ended}; "
                f"traffic {p.traffic:g}; {weights}; {p.reason}"
            )
        typer.echo(dump_experiment(record.experiment), nl=False)

    @group.command("start")
    def start(key: Key, database_url: DatabaseUrl = None, actor: Actor = None) -> None:
        """Start a draft (refused if it overlaps a running experiment)."""
        typer.echo(f"started {_line(registry(database_url).start(key, actor_name(actor)))}")

    @group.command("stop")
    def stop(key: Key, database_url: DatabaseUrl = None, actor: Actor = None) -> None:
        """Stop a running experiment."""
        typer.echo(f"stopped {_line(registry(database_url).stop(key, actor_name(actor)))}")

    @group.command("decide")
    def decide(
        key: Key,
        decision: Annotated[Decision, typer.Option("--decision", help=_DECISION_HELP)],
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        """Record the decision on a stopped experiment."""
        record = registry(database_url).decide(key, decision, actor_name(actor))
        typer.echo(f"decided {_line(record)}")

    @group.command("archive")
    def archive(key: Key, database_url: DatabaseUrl = None, actor: Actor = None) -> None:
        """Archive a decided experiment (or an abandoned draft)."""
        typer.echo(f"archived {_line(registry(database_url).archive(key, actor_name(actor)))}")
