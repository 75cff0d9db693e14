"""shipit.cli.commands."""
