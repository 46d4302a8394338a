"""``make readme``: run every shell block of README.md, in order and exactly as written, in a fresh clone.

The README is a contract with the user. This script clones the repository into a new temporary folder (as
a new user would), then runs each line of each ```sh block there with bash, under a pseudo-terminal so that
progress bars draw as they would for a person. A line whose comment holds the marker ``(long`` is skipped by
name (the README shows the marker and a short variant that does run). The first non-zero exit stops the run.

For every command it records the wall time and the longest interval without new output, and writes the
table to ``benchmarks/results/readme_run.md``. A line ``. .venv/bin/activate`` updates the environment of
the lines after it, as it would in a shell.

    .venv/bin/python scripts/run_readme.py [--keep] [--only N]
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARKER = "(long"


@dataclass
class Step:
    """One README command and what running it measured."""

    line: str
    skipped: bool = False
    exit_code: int = 0
    seconds: float = 0.0
    longest_silence: float = 0.0
    silent_after: str = ""


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|[\r\x07]")


def last_text(output: bytes, width: int = 48) -> str:
    """The last visible text of a command's output so far (escape codes dropped), to say where it fell silent."""
    lines = [ln.strip() for ln in ANSI.sub("\n", output[-4096:].decode(errors="replace")).splitlines()]
    text = next((ln for ln in reversed(lines) if ln), "")
    return "(start)" if not text else text if len(text) <= width else "..." + text[-width:]


def readme_commands(text: str) -> list[str]:
    """The lines of the ```sh blocks, continuation lines joined, blank and comment-only lines dropped."""
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        pending = ""
        for raw in block.splitlines():
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def run_line(line: str, cwd: Path, env: dict[str, str], echo: bool = True) -> Step:
    """Run one command under a pseudo-terminal; time it, its longest silence and the output just before it."""
    master, slave = pty.openpty()
    start = last = time.perf_counter()
    longest, where, output = 0.0, "", b""
    proc = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        now = time.perf_counter()
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if now - last > longest:
                longest, where = now - last, last_text(output)
            last = now
            output = (output + chunk)[-4096:]
            if echo:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
        elif proc.poll() is not None:
            break
    code = proc.wait()
    os.close(master)
    end = time.perf_counter()
    if end - last > longest:
        longest, where = end - last, last_text(output) + " (to the end)"
    return Step(line, False, code, end - start, longest, where)


def activated(env: dict[str, str], cwd: Path, line: str) -> dict[str, str]:
    """The environment after sourcing ``line`` (``. .venv/bin/activate``)."""
    out = subprocess.run(["bash", "-c", f"{line} && env -0"], cwd=cwd, env=env, capture_output=True, check=True)
    return dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)


def write_table(steps: list[Step], path: Path, planned: int) -> None:
    """The measured table, as markdown (saying so when the run stopped before the last of ``planned``)."""
    rows = ["| command | exit | seconds | longest silence (s) | silent after |", "|---|---|---|---|---|"]
    for s in steps:
        shown = s.line.replace("|", "\\|")
        where = s.silent_after.replace("|", "\\|").replace("`", "'")
        rows.append(f"| `{shown}` | skipped (long) | - | - | - |" if s.skipped else
                    f"| `{shown}` | {s.exit_code} | {s.seconds:.1f} | {s.longest_silence:.1f} | {where} |")
    total = sum(s.seconds for s in steps)
    path.write_text("# make readme: every README command in a fresh clone\n\n" + "\n".join(rows) +
                    f"\n\nTotal {total:.0f} s for {sum(not s.skipped for s in steps)} commands "
                    f"({sum(s.skipped for s in steps)} long ones skipped)." +
                    ("" if len(steps) >= planned else f" Stopped after {len(steps)} of {planned} README commands.") +
                    "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    parser.add_argument("--only", type=int, default=0, help="stop after this many commands (0: all); the table "
                        "then goes to readme_run_firstN.md")
    args = parser.parse_args()
    commands = readme_commands((ROOT / "README.md").read_text())
    work = Path(tempfile.mkdtemp(prefix="pinn-readme-"))
    clone = work / "pinn"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if ".venv" not in p)
    steps: list[Step] = []
    try:
        for line in commands[: args.only or None]:
            if SKIP_MARKER in line.partition("#")[2]:
                steps.append(Step(line, skipped=True))
                print(f"\n$ {line}\n(skipped: marked long)")
                continue
            print(f"\n$ {line}", flush=True)
            if line.startswith((". ", "source ")):
                env = activated(env, clone, line)
                steps.append(Step(line))
                continue
            step = run_line(line, clone, env)
            steps.append(step)
            print(f"[exit {step.exit_code}, {step.seconds:.1f} s, longest silence {step.longest_silence:.1f} s "
                  f"after {step.silent_after!r}]")
            if step.exit_code != 0:
                print(f"make readme: FAILED at: {line}", file=sys.stderr)
                return 1
    finally:
        name = f"readme_run_first{args.only}.md" if args.only else "readme_run.md"  # a part never replaces the whole
        write_table(steps, ROOT / "benchmarks" / "results" / name, len(commands[: args.only or None]))
        if args.keep:
            print(f"clone kept in {clone}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nmake readme: all {sum(not s.skipped for s in steps)} commands passed "
          f"({sum(s.skipped for s in steps)} long ones skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
