"""``python -m vigil`` runs the command-line tool."""

from vigil.cli import main

main()
