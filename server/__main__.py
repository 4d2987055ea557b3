"""``python -m server`` is the ``laurel`` command."""

from server.cli import main

main()
