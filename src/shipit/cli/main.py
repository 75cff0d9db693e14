"""The ``shipit`` command: a thin Typer app; each command module parses, calls, renders."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from shipit.errors import ShipitError


def _hide_flag_types(command: Any, ctx: Any) -> None:
    """Give every flag (an option that takes no value) an empty metavar, recursively.

    Typer's help panels print the parameter type after each option, so a flag reads
    ``--relative <bool>`` as if it wanted a value; an empty metavar prints nothing there.
    """
    for param in [*command.params, command.get_help_option(ctx)]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _hide_flag_types(sub, ctx)


class ShipitGroup(TyperGroup):
    """The root command group: its commands' help shows no type after flags."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The sub-command, with its flags' types hidden in its help."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _hide_flag_types(command, ctx)
        return command

    def get_help_option(self, ctx: Any) -> Any:
        """The root's own ``--help``, also without a type."""
        option = super().get_help_option(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option


app = typer.Typer(
    name="shipit",
    cls=ShipitGroup,
    help="Experimentation platform: should we ship it?",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    """Attach every command module (imported here so that `--help` stays fast to write)."""
    from shipit.cli.commands import (
        analyze,
        assign,
        boundaries,
        demo,
        experiment,
        load,
        metrics,
        power,
        simulate,
        simulate_adaptive,
        stats,
        version,
    )

    version.register(app)
    experiment.register(app)
    assign.register(app)
    load.register(app)
    from shipit.cli.commands import map as map_command

    map_command.register(app)
    metrics.register(app)
    stats.register(app)
    power.register(app)
    boundaries.register(app)
    simulate_adaptive.register(simulate.simulate_app)
    simulate.register(app)
    analyze.register(app)
    demo.register(app)
    from shipit.cli.commands import holdout, keys, lifecycle, monitor, portfolio, serve

    keys.register(app)
    serve.register(app)
    lifecycle.register(app)
    monitor.register(app)
    portfolio.register(app)
    holdout.register(app)
    from shipit.cli.commands import bandit

    bandit.register(app)


@app.callback()
def _root() -> None:
    """Experimentation platform: should we ship it?"""


_register()


def main() -> None:
    """Run the CLI; a ShipitError becomes one clear line on stderr and a non-zero exit."""
    try:
        code = app(standalone_mode=False)
    except ShipitError as exc:
        message = f"[bold red]error:[/] {escape(str(exc))}"  # the message is text, not markup
        Console(stderr=True).print(message, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Usage errors of the CLI framework carry their own message and exit code.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if not callable(show) or not isinstance(code, int):
            raise
        show()
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)
