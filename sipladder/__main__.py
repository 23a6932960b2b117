"""``python -m sipladder`` runs the command line."""

from sipladder.cli import main

main()
