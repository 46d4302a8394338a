"""The ``pinn`` command line (typer): parses arguments, calls the pinn library, prints."""
