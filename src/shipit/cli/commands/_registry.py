"""Options shared by the commands that use the registry."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shipit.registry import SqlAlchemyRepository

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SHIPIT_DATABASE_URL",
        help="Registry database URL (default: SQLite at .shipit/shipit.db in this directory).",
    ),
]
Actor = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change (default: the OS user).")
]


def registry(url: str | None) -> SqlAlchemyRepository:
    """Open the registry the options point at (SQLAlchemy is imported only now)."""
    from shipit.registry import open_registry

    return open_registry(url)


def actor_name(actor: str | None) -> str:
    """The actor for the audit log."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
