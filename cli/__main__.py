"""``python -m cli``: the same as the ``pinn`` command."""

from cli.main import main

main()
