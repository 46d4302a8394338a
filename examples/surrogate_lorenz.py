"""Forecast the Lorenz system from the notes' trajectories with the library API (about a minute on one core).

    .venv/bin/python examples/surrogate_lorenz.py

The same as ``pinn surrogate train lorenz --model polynomial``: simulate 100 + 20 trajectories with the
Taylor-series integrator, fit a Chebyshev-polynomial flow map by least squares (degree and ridge chosen on
the validation trajectories), and forecast the 20 unseen initial states against the Taylor reference. Then
the same call with ``model="reservoir"`` gives the echo-state-network baseline.
"""

from __future__ import annotations

from pinn.progress import Reporter
from pinn.surrogate.config import SurrogateConfig, SurrogateKind
from pinn.surrogate.pipeline import run_surrogate, summary_rows
from problems import REGISTRY


class PrintReporter(Reporter):
    """Print each line the library reports (fitted settings, equations)."""

    def message(self, text: str) -> None:
        print(text)


def main() -> None:
    lorenz = REGISTRY.get("lorenz", purpose="surrogates").surrogate_problem()
    config = SurrogateConfig(model=SurrogateKind.polynomial, horizon=30.0, out="runs/example-surrogate")
    summary, folder = run_surrogate(config, lorenz, PrintReporter())
    for name, value in summary_rows(summary, chaotic=True):
        print(f"{name:>52}: {value}")
    print(f"run folder with figures: {folder}")


if __name__ == "__main__":
    main()
