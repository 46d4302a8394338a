"""Mutation run: does the test suite notice plausible bugs in the core?

Each mutation below replaces one exact piece of source (a sign, a factor, a threshold, a check) in a
temporary copy of the tree (never the working tree), runs the tests named for it there, and counts as
caught when they fail. The unmutated copy must pass the same tests first, so a failure is the mutation's.
Writes benchmarks/results/mutations.md (mutation, file, test, caught) and mutations.json.

    .venv/bin/python benchmarks/mutations.py                 # every mutation (about 5 minutes on one core)
    .venv/bin/python benchmarks/mutations.py --only vpt md5  # those whose name contains a word
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (which must occur exactly once in ``path``) by ``new``; ``tests`` must then fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


T = "tests/"
MUTATIONS = (
    # right-hand sides
    Mutation("Lorenz: sign of -y in y'", "problems/lorenz.py", 'x * (p["rho"] - z) - y', 'x * (p["rho"] - z) + y',
             (T + "test_reference.py::test_lorenz_rhs_matches_the_equations_term_by_term",)),
    Mutation("Lorenz: sigma (x - y), the notes' sign", "problems/lorenz.py", 'p["sigma"] * (y - x)',
             'p["sigma"] * (x - y)', (T + "test_reference.py::test_lorenz_rhs_matches_the_equations_term_by_term",)),
    Mutation("Lorenz: sign of -beta z in z'", "problems/lorenz.py", 'x * y - p["beta"] * z', 'x * y + p["beta"] * z',
             (T + "test_reference.py::test_lorenz_rhs_matches_the_equations_term_by_term",)),
    Mutation("oscillator: damping 2 gamma v -> gamma v", "problems/oscillator.py",
             '- 2.0 * p["gamma"] * v - p["omega0"]', '- p["gamma"] * v - p["omega0"]',
             (T + "test_reference.py",)),
    Mutation("Van der Pol: (1 - x^2) -> (1 + x^2)", "problems/van_der_pol.py", 'p["mu"] * (1.0 - x * x) * v',
             'p["mu"] * (1.0 + x * x) * v', (T + "test_reference.py",)),
    Mutation("Burgers residual: sign of u u_x", "problems/burgers.py", "d.u_t + d.u * d.u_x", "d.u_t - d.u * d.u_x",
             (T + "test_pde_problem.py",)),
    # Jacobians
    Mutation("ODE: state Jacobian transposed", "pinn/window_fit.py", ".permute(1, 2, 0)", ".permute(1, 0, 2)",
             (T + "test_marching.py::test_lorenz_default_solve_meets_the_default_tolerance",
              T + "test_marching.py::test_window_sensitivity_matches_the_exact_flow")),
    Mutation("PDE: residual Jacobian halved", "pinn/pde/assembly.py", "jac = sum(parts[k][f].reshape(-1, 1)",
             "jac = sum(0.5 * parts[k][f].reshape(-1, 1)", (T + "test_pde_solve.py",)),
    # Gauss-Newton steps
    Mutation("ODE: Gauss-Newton step x 0.9", "pinn/window_fit.py", "y = y - step.reshape(d, r).T",
             "y = y - 0.9 * step.reshape(d, r).T",
             (T + "test_marching.py::test_lorenz_default_solve_meets_the_default_tolerance",)),
    Mutation("ODE: Gauss-Newton step x 0.5", "pinn/window_fit.py", "y = y - step.reshape(d, r).T",
             "y = y - 0.5 * step.reshape(d, r).T",
             (T + "test_marching.py::test_lorenz_default_solve_meets_the_default_tolerance",)),
    Mutation("PDE: Gauss-Newton step x 0.5", "pinn/pde/gauss_newton.py", "trial = coef + step",
             "trial = coef + 0.5 * step", (T + "test_pde_solve.py",)),
    Mutation("PDE: residual rows weighted without the cell's time length", "pinn/pde/assembly.py",
             "weight = math.sqrt(cell.hx * cell.hs / xi.numel())", "weight = math.sqrt(cell.hx / xi.numel())",
             (T + "test_pde_solve.py",)),
    Mutation("ODE: window error estimate 10x too small", "pinn/window_fit.py", "DEFECT_TO_ERROR = 10.0",
             "DEFECT_TO_ERROR = 100.0",
             (T + "test_marching.py::test_window_error_estimate_bounds_the_true_error_inside_each_window",)),
    # Fourier coefficients
    Mutation("Fourier: sine coefficients 2/T -> 1/T", "pinn/fourier.py",
             "g = np.array([2.0 / period * integral", "g = np.array([1.0 / period * integral",
             (T + "test_fourier.py",)),
    Mutation("Fourier: mean a0 over 2T", "pinn/fourier.py", "a0 = integral(lambda s: 1.0) / period",
             "a0 = integral(lambda s: 1.0) / (2 * period)", (T + "test_fourier.py",)),
    # Taylor series reference
    Mutation("Taylor: recurrence U_k+1 = F_k / (k + 2)", "pinn/taylor.py", "U[k + 1] = f.c[k] / (k + 1)",
             "U[k + 1] = f.c[k] / (k + 2)", (T + "test_taylor.py",)),
    Mutation("Taylor: exp series divided by k + 1", "pinn/taylor.py",
             "e[k] = sum(j * a[j] * e[k - j] for j in range(1, k + 1)) / k",
             "e[k] = sum(j * a[j] * e[k - j] for j in range(1, k + 1)) / (k + 1)", (T + "test_taylor.py",)),
    # step controller
    Mutation("step control: exponent sign flipped", "pinn/step_control.py",
             "factor = c.safety * max(ratio, 1e-300) ** (-1.0 / self.order)",
             "factor = c.safety * max(ratio, 1e-300) ** (1.0 / self.order)", (T + "test_step_control.py",)),
    # valid prediction time
    Mutation("VPT: Pathak threshold 0.4 -> 0.5", "pinn/surrogate/vpt.py", "NORM_THRESHOLD = 0.4",
             "NORM_THRESHOLD = 0.5", (T + "test_surrogate_evaluate.py",)),
    Mutation("VPT: NRMSE threshold 0.5 -> 0.4", "pinn/surrogate/vpt.py", "NRMSE_THRESHOLD = 0.5",
             "NRMSE_THRESHOLD = 0.4", (T + "test_surrogate_evaluate.py",)),
    # md5, archive and path checks
    Mutation("md5: a cached file is trusted", "pinn/vision/download.py",
             "if dest.exists() and (md5 is None or md5_of(dest) == md5):", "if dest.exists():",
             (T + "test_vision_download.py",)),
    Mutation("md5: a download is not checked", "pinn/vision/download.py", "if got != md5:", "if False:",
             (T + "test_vision_download.py",)),
    Mutation("tar: '..' members allowed", "pinn/vision/download.py", 'or ".." in name.parts', "",
             (T + "test_vision_download.py",)),
    Mutation("output path: a file accepted as --out folder", "pinn/runs.py", "if not existing.is_dir():",
             "if False:", (T + "test_metrics_runs.py",)),
    # training loops
    Mutation("NaN policy: the last finite parameters are not put back", "pinn/optim.py",
             "torch.nn.utils.vector_to_parameters(self.saved, self.params)", "pass", (T + "test_optim.py",)),
    Mutation("weight decay: L-BFGS penalty lambda sum w^2 (twice the optimizers')", "pinn/optim.py",
             "return 0.5 * weight_decay * sum(",
             "return weight_decay * sum(", (T + "test_optim.py",)),
    Mutation("surrogate training returns the last weights, not the best", "pinn/surrogate/train.py",
             "    loop.finish()\n    model.eval()", "    model.eval()", (T + "test_surrogate_train.py",)),
    Mutation("epoch loops: a NaN loss does not stop training", "pinn/optim.py",
             "        if not self.finite(*losses):\n            return False\n", "",
             (T + "test_optim.py",)),
    Mutation("early stopping one epoch late", "pinn/optim.py", "epoch - self.best_epoch >= self.patience",
             "epoch - self.best_epoch > self.patience", (T + "test_optim.py", T + "test_surrogate_train.py")),
)


def copy_tree(dest: Path) -> None:
    """The working tree's files (tracked and untracked, without ignored ones such as .venv) into ``dest``."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[bool, float, str]:
    """(passed, seconds, last line of pytest's output) for ``tests`` in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                             cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - start, f"timed out after {timeout:.0f} s"
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    said = lines[-1] if lines else out.stderr[-200:]
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    if failed:  # the first test that went red, without the tests/ folder
        said = f"{failed[0].split(' ')[0].removeprefix('tests/')}: {said}"
    return out.returncode == 0, time.perf_counter() - start, said


def check_imports_come_from(tree: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    found = subprocess.run([sys.executable, "-c", "import pinn, problems; print(pinn.__file__, problems.__file__)"],
                           cwd=tree, env=env, capture_output=True, text=True, check=True).stdout.split()
    if not all(Path(f).resolve().is_relative_to(tree.resolve()) for f in found):
        raise SystemExit(f"the copy's packages are shadowed by {found}: the run would test the working tree")


def write_results(rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutations.json").write_text(json.dumps(rows, indent=1))
    caught = sum(r["caught"] for r in rows)
    lines = ["# Mutation run", "", "`.venv/bin/python benchmarks/mutations.py`: each mutation "
             "applied alone to a copy of the tree; caught = the named tests fail (the unmutated copy passes them).",
             "", f"**{caught} of {len(rows)} caught.**", "",
             "| mutation | file | test | caught | seconds | pytest says |", "|---|---|---|---|---|---|"]
    for r in rows:
        tests = "<br>".join(t.removeprefix("tests/") for t in r["tests"])
        mark = "yes" if r["caught"] else "**no**"
        lines.append(f"| {r['name'].replace('|', '/')} | {r['path']} | {tests} | {mark} | {r['seconds']:.1f} | "
                     f"{r['outcome'].replace('|', '/')} |")
    (RESULTS / "mutations.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run the mutations whose name contains one of these")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per test run")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or any(w.lower() in m.name.lower() for w in args.only)]
    with tempfile.TemporaryDirectory(prefix="pinn-mutations-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        check_imports_come_from(tree)
        for m in chosen:
            if (tree / m.path).read_text().count(m.old) != 1:
                raise SystemExit(f"{m.name}: {m.old!r} does not occur exactly once in {m.path}")
        every = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        passed, seconds, said = run_tests(tree, every, args.timeout * 2)
        print(f"unmutated: {said} ({seconds:.0f} s)", flush=True)
        if not passed:
            raise SystemExit("the named tests fail without any mutation: fix them first")
        rows = []
        for m in chosen:
            source = tree / m.path
            original = source.read_text()
            source.write_text(original.replace(m.old, m.new))
            try:
                passed, seconds, said = run_tests(tree, m.tests, args.timeout)
            finally:
                source.write_text(original)
            rows.append({**asdict(m), "caught": not passed, "seconds": seconds, "outcome": said})
            print(f"{'caught ' if not passed else 'MISSED '} {m.name}: {said} ({seconds:.0f} s)", flush=True)
    if not args.only:
        write_results(rows)
    missed = [r["name"] for r in rows if not r["caught"]]
    print(f"{len(rows) - len(missed)} of {len(rows)} caught" + (f"; missed: {missed}" if missed else ""))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
