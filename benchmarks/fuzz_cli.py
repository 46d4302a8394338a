"""The command-line fuzz campaign of issue 10, counted: calls, exit codes, internal errors, hangs, silent
successes, per command, over the slow profile of tests/test_fuzz_cli.py (dry runs of hostile command
lines, then tiny real runs), plus the exhaustive sweep of every float / whole-number / path option (dry
runs) and of every float option at valid-looking extremes such as 5e-324 and 1e300 (real runs).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fuzz_cli.py [--dry 2500] [--real 150] [--seed 0]

Writes benchmarks/results/fuzz_cli.json and fuzz_cli.md. Unlike the test, it never stops at the first
failure: every call is counted, and the first example of each kind of failure is recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import clifuzz  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXHAUSTIVE = {"float": ("nan", "-inf", "inf"), "int": ("18446744073709551616", "-1"),
              "path": ("bad\x00name", "/dev/null/x", "/proc/pinn-fuzz")}
LIMITS = {"dry": 30.0, "real": 120.0}


def campaign(sandbox: Path, strategy: st.SearchStrategy, examples: int, limit: float, real: bool,
             tally: clifuzz.Tally, rng_seed: int) -> None:
    """Draw ``examples`` calls from ``strategy`` and count every outcome into ``tally``."""

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        call = data.draw(strategy)
        outcome = clifuzz.run_call(call.resolved(sandbox), sandbox, limit)
        tally.add(call, outcome, clifuzz.verdict(call, outcome, real))
        clifuzz.remove_created(sandbox, outcome.created)

    one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry", type=int, default=2500)
    parser.add_argument("--real", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    commands = clifuzz.command_tree()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = clifuzz.build_real_sandbox(Path(tmp))
        for name, strategy, examples, real in (
                ("dry", clifuzz.calls(commands), args.dry, False),
                ("real", clifuzz.real_calls(commands), args.real, True)):
            tally, start = clifuzz.Tally(), time.perf_counter()
            campaign(sandbox, strategy, examples, LIMITS[name], real, tally, args.seed)
            results[name] = summary(tally, time.perf_counter() - start)
        tally, start = clifuzz.Tally(), time.perf_counter()
        for command in commands:
            if command.dry_run:
                for call in clifuzz.exhaustive_calls(command, EXHAUSTIVE):
                    outcome = clifuzz.run_call(call.resolved(sandbox), sandbox, LIMITS["dry"])
                    tally.add(call, outcome, clifuzz.verdict(call, outcome))
                    clifuzz.remove_created(sandbox, outcome.created)
        results["exhaustive"] = summary(tally, time.perf_counter() - start)
        tally, start = clifuzz.Tally(), time.perf_counter()
        for command in commands:
            for call in clifuzz.exhaustive_real_calls(command):
                outcome = clifuzz.run_call(call.resolved(sandbox), sandbox, LIMITS["real"])
                tally.add(call, outcome, clifuzz.verdict(call, outcome, real=True))
                clifuzz.remove_created(sandbox, outcome.created)
        results["extremes"] = summary(tally, time.perf_counter() - start)
    total = {k: sum(r[k] for r in results.values()) for k in ("calls", "internal_errors", "hangs",
                                                               "silent_successes", "other_failures")}
    record = {"seed": args.seed, "commands": len(commands), "total": total, **results}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz_cli.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "fuzz_cli.md").write_text(markdown(record))
    print(markdown(record))


def summary(tally: clifuzz.Tally, seconds: float) -> dict:
    known = ("internal error", "hang", "silent success", "traceback")
    return {"calls": tally.calls, "seconds": round(seconds, 1), "exit_codes": tally.exits,
            "commands_reached": len(tally.commands), "internal_errors": tally.count("internal error"),
            "hangs": tally.count("hang"), "silent_successes": tally.count("silent success"),
            "tracebacks": tally.count("traceback"),
            "other_failures": sum(v for k, v in tally.failures.items() if k not in known),
            "failures": tally.failures, "examples": {k: [list(a), t] for k, (a, t) in tally.examples.items()},
            "failing": tally.failing}


def markdown(record: dict) -> str:
    lines = [f"Command-line fuzz campaign ({record['commands']} commands, seed {record['seed']}; wall-clock seconds "
             "on a shared machine)", "",
             "| part | calls | seconds | exit 0 | exit 2 | internal errors | hangs | silent successes | other |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in ("dry", "real", "exhaustive", "extremes"):
        r = record[name]
        lines.append(f"| {name} | {r['calls']} | {r['seconds']} | {r['exit_codes'].get('0', 0)} | "
                     f"{r['exit_codes'].get('2', 0)} | {r['internal_errors']} | {r['hangs']} | "
                     f"{r['silent_successes']} | {r['other_failures'] + r['tracebacks']} |")
    t = record["total"]
    lines.append(f"| total | {t['calls']} | | | | {t['internal_errors']} | {t['hangs']} | {t['silent_successes']} | "
                 f"{t['other_failures']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
