"""``shipit kill|ramp|decide|rollout KEY``: act on a registered experiment without its spec."""

from __future__ import annotations

from typing import Annotated

import typer

from shipit.cli.commands._registry import Actor, DatabaseUrl, actor_name, registry
from shipit.registry.lifecycle import Decision

Key = Annotated[str, typer.Argument(help="Experiment key.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]
_DECISION_HELP = (
    "One of "
    + ", ".join(d.value for d in Decision)
    + " (default: the latest stored analysis's verdict)."
)


def register(app: typer.Typer) -> None:
    """Add the lifecycle commands to the app."""

    @app.command("kill")
    def kill(
        key: Key, reason: Reason = "", database_url: DatabaseUrl = None, actor: Actor = None
    ) -> None:
        """Turn the kill switch on: everyone not forced gets control (audited with who/why)."""
        record = registry(database_url).kill(key, actor_name(actor), reason=reason)
        typer.echo(f"killed {record.key}: kill switch on, {record.status}")

    @app.command("ramp")
    def ramp(
        key: Key,
        to: Annotated[float, typer.Option("--to", help="New traffic fraction, in (0, 1].")],
        reason: Reason = "",
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        """Change a running experiment's traffic (a new phase)."""
        record = registry(database_url).ramp(key, to, actor_name(actor), reason=reason)
        phase = record.phase.number if record.phase else 0
        typer.echo(f"ramped {record.key}: traffic {record.experiment.traffic:g}, phase {phase}")

    @app.command("decide")
    def decide(
        key: Key,
        decision: Annotated[
            Decision | None, typer.Option("--decision", help=_DECISION_HELP)
        ] = None,
        reason: Reason = "",
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        """Record a decision (stopping the experiment if it runs); kill, roll_back and halt
        also turn its kill switch on."""
        repo = registry(database_url)
        if decision is None:
            from shipit.registry.analyses import AnalysisRepository
            from shipit.result.schema import from_json

            verdict = from_json(AnalysisRepository(repo.engine).latest(key).body).verdict
            decision = verdict.decision
            reason = reason or "; ".join(verdict.reasons)
        record = repo.decide(key, decision, actor_name(actor), reason=reason, stop_running=True)
        switch = ", kill switch on" if record.experiment.kill_switch else ""
        typer.echo(f"decided {record.key}: {record.decision}{switch}")

    @app.command("rollout")
    def rollout(
        key: Key,
        advance: Annotated[
            bool, typer.Option("--advance", help="Take the next step (refused when unsafe).")
        ] = False,
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        """Show the verdict's rollout plan and the step reached; --advance ramps to the next."""
        from shipit.operate.rollout import advance_rollout, rollout_status

        repo = registry(database_url)
        if advance:
            status = advance_rollout(repo, key, actor_name(actor))
            step = status.steps[status.step - 1]
            typer.echo(
                f"advanced {key} to step {status.step} of {len(status.steps)}: "
                f"{step.percent:g}% of traffic for at least {step.min_days} day(s)"
            )
            return
        status = rollout_status(repo, key)
        typer.echo(f"{key}: verdict {status.decision}; step {status.step} of {len(status.steps)}")
        for i, s in enumerate(status.steps, 1):
            mark = ">" if i == status.step else " "
            typer.echo(f"{mark} {i}. {s.percent:g}% for {s.min_days} day(s)")
            for criterion in s.rollback_if:
                typer.echo(f"      roll back if {criterion}")
        for why in status.blocked:
            typer.echo(f"blocked: {why}")
