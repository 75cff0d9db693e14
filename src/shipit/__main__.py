"""``python -m shipit`` runs the CLI."""

from shipit.cli.main import main

main()
