"""``make test`` on a fresh clone, idle and beside two loops of the README's square-wave solve (issue 16).

Clones the repository into a new temporary folder, times ``make install`` (creating .venv), then
``make test`` on the otherwise idle machine, then the README's square-wave solve alone, then ``make test``
again while two loops of that solve run beside it (each loop starts the solve again as soon as it ends).
Every solve that finished during the loaded run is timed, so the slowdown of the solves is measured too.

    .venv/bin/python benchmarks/suite_under_load.py [--clone PATH]

Writes benchmarks/results/suite_under_load.json and suite_under_load.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SOLVE = ["solve", "oscillator", "--forcing", "square", "--period", "0.2", "--width", "0.1", "--fmax", "2",
         "--harmonics", "20", "--t-final", "20"]


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of ``command`` in ``cwd``; RuntimeError with its output tail if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {(done.stdout + done.stderr)[-2000:]}")
    return time.perf_counter() - start


class SolveLoop(threading.Thread):
    """Runs the square-wave solve again and again in ``cwd`` until stopped; records each finished run."""

    def __init__(self, pinn: Path, cwd: Path, index: int) -> None:
        super().__init__(daemon=True)
        self.pinn, self.cwd, self.index = pinn, cwd, index
        self.seconds: list[float] = []
        self.stopping = threading.Event()
        self.current: subprocess.Popen | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            start = time.perf_counter()
            self.current = subprocess.Popen([str(self.pinn), *SOLVE, "--out", f"load-runs-{self.index}"],
                                            cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self.current.wait() == 0 and not self.stopping.is_set():
                self.seconds.append(time.perf_counter() - start)

    def stop(self) -> None:
        self.stopping.set()
        if self.current is not None and self.current.poll() is None:
            self.current.terminate()
        self.join()


def measure(clone: Path) -> dict:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    install = timed(["make", "install"], clone)
    idle = timed(["make", "test"], clone)
    pinn = clone / ".venv" / "bin" / "pinn"
    alone = [timed([str(pinn), *SOLVE, "--out", "alone-runs"], clone) for _ in range(2)]
    loops = [SolveLoop(pinn, clone, i) for i in (1, 2)]
    for loop in loops:
        loop.start()
    time.sleep(5.0)  # both solves are past their imports when the tests start
    try:
        loaded = timed(["make", "test"], clone)
    finally:
        for loop in loops:
            loop.stop()
    beside = [s for loop in loops for s in loop.seconds]
    return {"install_seconds": install, "test_idle_seconds": idle, "test_loaded_seconds": loaded,
            "solve_alone_seconds": alone, "solve_beside_tests_seconds": beside,
            "worst_solve_ratio": max(beside) / min(alone) if beside else None, "solve": " ".join(["pinn", *SOLVE])}


def write(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "suite_under_load.json").write_text(json.dumps(result, indent=2) + "\n")
    beside = result["solve_beside_tests_seconds"]
    ratio = result["worst_solve_ratio"]
    lines = [
        "`make test` on a fresh clone (2 xdist workers, one torch thread each), idle and beside two loops of the "
        f"README's square-wave solve (`{result['solve']}`); wall seconds, one run",
        "",
        "| measurement | seconds |",
        "|---|---|",
        f"| make install (new .venv) | {result['install_seconds']:.0f} |",
        f"| make test, idle | {result['test_idle_seconds']:.0f} |",
        f"| both: a fresh clone's first `make test`, idle | "
        f"{result['install_seconds'] + result['test_idle_seconds']:.0f} |",
        f"| make test, two solve loops beside it | {result['test_loaded_seconds']:.0f} |",
        f"| square-wave solve alone (two runs) | {', '.join(f'{s:.1f}' for s in result['solve_alone_seconds'])} |",
        f"| square-wave solves beside the tests ({len(beside)} finished) | "
        f"{min(beside):.1f} to {max(beside):.1f} |" if beside else "| square-wave solves beside the tests | none finished |",
        "",
        f"Slowest solve beside the tests / fastest alone: {ratio:.2f}x." if ratio else "",
    ]
    (RESULTS / "suite_under_load.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clone", type=Path, default=None, help="where to clone (default: a new temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinn-load-") as tmp:
        result = measure(args.clone or Path(tmp) / "pinn")
    write(result)
    print((RESULTS / "suite_under_load.md").read_text())


if __name__ == "__main__":
    main()
