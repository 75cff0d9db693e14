"""``shipit keys create|list|revoke``: API keys of the server, kept hashed in the registry."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from shipit.registry.keys import KeyRepository


def _repo(database_url: str | None) -> KeyRepository:
    """Keys of the registry at ``--database-url``, SHIPIT_DATABASE_URL or the project default."""
    from shipit.registry.keys import KeyRepository

    return KeyRepository.from_url(database_url or os.environ.get("SHIPIT_DATABASE_URL"))


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group to the app."""
    keys = typer.Typer(help="API keys of the server (sdk: assign + send data; admin: all).")
    app.add_typer(keys, name="keys")
    url_option = typer.Option(None, "--database-url", help="Registry database URL.")

    @keys.command("create")
    def create(
        name: str = typer.Argument(..., help="Who or what uses the key."),
        scope: str = typer.Option("sdk", help="sdk, read or admin."),
        database_url: str | None = url_option,
    ) -> None:
        """Create a key and print it (the only time the secret is shown)."""
        new = _repo(database_url).create(name, scope)
        Console(stderr=True).print(
            f"created {new.key.scope} key {new.key.prefix} for {new.key.name!r}; "
            "store it now, it is not shown again:",
            highlight=False,
        )
        typer.echo(new.token)

    @keys.command("list")
    def list_keys(database_url: str | None = url_option) -> None:
        """List keys (prefixes only, never secrets)."""
        table = Table("prefix", "name", "scope", "created", "revoked")
        for k in _repo(database_url).list():
            revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
            table.add_row(
                k.prefix, k.name, k.scope, k.created_at.isoformat(timespec="seconds"), revoked
            )
        Console().print(table)

    @keys.command("revoke")
    def revoke(
        prefix: str = typer.Argument(..., help="The key's prefix (see `shipit keys list`)."),
        database_url: str | None = url_option,
    ) -> None:
        """Revoke a key: it stops working at once."""
        k = _repo(database_url).revoke(prefix)
        typer.echo(f"revoked {k.prefix} ({k.name})")
