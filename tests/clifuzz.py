"""Machinery of the command-line fuzz suite (tests/test_fuzz_cli.py, benchmarks/fuzz_cli.py).

The command tree is read from the real click command (``typer.main.get_command(cli.main.app)``): every
command, argument and option with its type, so a new command or option is fuzzed without editing the
tests. A call is drawn as a command line of hostile values (NaN, +-inf, zero, negatives, huge and tiny
numbers, extreme integers, empty and unicode strings, unwritable paths, malformed data files and run
folders from a sandbox), run through typer's ``CliRunner`` under a wall-clock limit, and judged:

- exit 0 with finite results (no ``nan``/``inf`` in what it printed), or exit 2 with exactly one line on
  stderr and nothing created in the sandbox (a run folder holding a failure record is allowed only for
  real runs that stopped after writing results the user needs);
- never exit 1 (an internal error), never a traceback, never past the time limit;
- NaN or an infinity given to any float option is always exit 2.
"""

from __future__ import annotations

import enum
import gzip
import io
import json
import math
import os
import pickle
import re
import signal
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import typer
from hypothesis import strategies as st
from typer.testing import CliRunner

import cli.main
from problems import REGISTRY

SANDBOX = "@SANDBOX@"
"""Marker of a path inside the per-run sandbox; replaced by the sandbox folder when a call runs."""


# ------------------------------------------------------------------------------------------ the tree

@dataclass(frozen=True)
class Param:
    """One argument or option of a command, as the fuzzer sees it.

    kind: float, int, str, path, bool or choice; flag: the option's first name (None for an argument);
    nargs: values per occurrence; multiple: a list option; choices: for a choice.
    """

    name: str
    flag: Optional[str]
    kind: str
    nargs: int = 1
    multiple: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    secondary: Optional[str] = None
    default: Any = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")


@dataclass(frozen=True)
class Command:
    """A leaf command: its words (``("solve", "lorenz")``) and parameters."""

    path: tuple[str, ...]
    params: tuple[Param, ...]

    @property
    def dry_run(self) -> bool:
        return any(p.flag == "--dry-run" for p in self.params)

    @property
    def required(self) -> list[Param]:
        return [p for p in self.params if p.required]

    @property
    def optional(self) -> list[Param]:
        return [p for p in self.params if not p.required and p.flag not in ("--dry-run", "--help")]

    @property
    def name(self) -> str:
        return " ".join(self.path)


def _unwrap(annotation: Any) -> tuple[Any, int]:
    """The element type of an annotation and the number of values per occurrence (tuples)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or (origin is not None and type(None) in args):
        inner = [a for a in args if a is not type(None)]
        return _unwrap(inner[0])
    if origin in (list, typing.List):
        return _unwrap(args[0])
    if origin is tuple and args:
        return _unwrap(args[0])[0], len(args)
    return annotation, 1


def _kind(element: Any) -> str:
    if isinstance(element, type) and issubclass(element, enum.Enum):
        return "choice"
    return {float: "float", int: "int", bool: "bool", str: "str", Path: "path"}.get(element, "str")


def read_param(p: Any) -> Param:
    """A click parameter of the real command as a :class:`Param`."""
    element, nargs = _unwrap(p.type_descriptor.annotation)
    kind = _kind(element)
    choices = tuple(str(m.value) for m in element) if kind == "choice" else ()
    opts = list(getattr(p, "opts", []) or [])
    flag = opts[0] if opts and opts[0].startswith("-") else None
    secondary = (getattr(p, "secondary_opts", None) or [None])[0]
    default = p.default if not callable(p.default) else None
    return Param(p.name, flag, kind, nargs, bool(getattr(p, "multiple", False)), bool(p.required), choices,
                 secondary, default)


def command_tree() -> list[Command]:
    """Every leaf command of ``pinn`` with its parameters, read from the real click command."""
    root = typer.main.get_command(cli.main.app)
    found: list[Command] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(None):
                walk(cmd.get_command(None, name), path + (name,))
            return
        found.append(Command(path, tuple(read_param(p) for p in cmd.params if p.name != "help")))

    walk(root, ())
    return found


# ----------------------------------------------------------------------------------------- the values

FLOATS = ("nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "0", "-0", "-1", "1e308", "-1e308",
          "1e-300", "-1e-300", "5e-324", "1e9", "1e12", "1e23", "-1e9", "0.5", "1", "2", "1e-9", "3.5")
INTS = ("0", "-1", "1", "2", "3", "-2147483648", "2147483648", "4294967295", "4294967296", "9223372036854775807",
        "18446744073709551616", "-18446744073709551616", "1000000000", "100000000", "1e9", "1.5", "nan", "")
STRINGS = ("", " ", "-", "--", "nan", "inf", "é", "名前", "a" * 300, "x=1", "sigma=nan", "rho=inf", "sigma=1e308",
           "omega=0", "x,y", ",", "width,depth", "\x00", "\n", "-1", "float64", "float16")
SYSTEM_PATHS = ("/dev/null", "/dev/null/x", "/proc/pinn-fuzz", "/proc/pinn-fuzz/deep", "/sys/pinn-fuzz")
ESCAPING_PATHS = ("/", "../..", "/tmp")  # only for dry runs: a real run there would write outside the sandbox


def _names() -> tuple[str, ...]:
    names = {spec.name for spec in REGISTRY}
    for spec in REGISTRY:  # any kind of spec: ODE components, PDE fields, parameters
        for attribute in ("components", "fields", "unknowns"):
            names.update(str(n) for n in getattr(spec, attribute, ()) or ())
        names.update(getattr(p, "name", str(p)) for p in getattr(spec, "parameters", ()) or ())
    return tuple(sorted(names))


NAMES = _names()
SANDBOX_FILES = ("file.txt", "empty", "junk.bin", "obs.csv", "obs_quoted.csv", "obs_semicolon.csv",
                 "obs_ragged.csv", "obs_latin1.csv", "obs_nan.csv", "obs_inf.csv", "obs_dup.csv", "obs_bom.csv",
                 "data.npz", "bad.npz", "wrong.npz", "object.npz", "out.npz", "out.csv", "new/deeper/out.npz",
                 "file.txt/child", "file.txt/out.csv", "run_junk", "run_list", "run_solve_bad", "run_classify_pickle",
                 "run_classify_shape", "run_classify_keys", "run_surrogate_pickle", "run_surrogate_keys",
                 "images_empty", "images_truncgz", "images_one", "images_cifar_trunc", "empty_dir", "missing",
                 "missing/deep/er", "é-ü", "a" * 300, "bad\x00name", "")


def float_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(FLOATS), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.floats(-10, 10).map(lambda v: f"{v:.3g}"))


def int_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(INTS), st.integers(-2 ** 70, 2 ** 70).map(str), st.integers(-3, 40).map(str))


def str_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(STRINGS), st.sampled_from(NAMES),
                     st.text(max_size=12).filter(lambda s: "\x00" not in s))


def path_text(real: bool) -> st.SearchStrategy[str]:
    system = SYSTEM_PATHS if real else SYSTEM_PATHS + ESCAPING_PATHS
    return st.one_of(st.sampled_from(SANDBOX_FILES).map(lambda name: f"{SANDBOX}/{name}" if name else ""),
                     st.sampled_from(system))


def value_text(p: Param, real: bool) -> st.SearchStrategy[str]:
    """One hostile value for ``p`` (as typed on the command line)."""
    if p.kind == "float":
        return float_text()
    if p.kind == "int":
        return int_text()
    if p.kind == "choice":
        return st.one_of(st.sampled_from(p.choices), st.sampled_from(("", "nope", "NAN", "é")))
    if p.kind == "path":
        return path_text(real)
    if p.name in ("problem", "dataset"):
        return st.one_of(st.sampled_from(NAMES), str_text())
    if p.name in ("out", "data"):
        return st.one_of(path_text(real), str_text())
    return str_text()


PLAUSIBLE_PATHS = ("obs.csv", "data.npz", "cwd/runs", "cwd/out.npz", "cwd/out.csv", "run_solve_ok", "run_classify_ok",
                   "run_surrogate_ok", "images_tiny")


def plausible_text(p: Param) -> st.SearchStrategy[str]:
    """An ordinary value for ``p`` (near its default, small counts, sandbox files that exist), so that a
    call with one hostile value among ordinary ones reaches the checks behind the first."""
    if p.kind == "float":
        base = abs(float(p.default)) if isinstance(p.default, (int, float)) and p.default else 1.0
        return st.sampled_from((0.5, 1.0, 2.0, 0.1)).map(lambda k: f"{k * base:g}")
    if p.kind == "int":
        return st.integers(1, 12).map(str)
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "path" or p.name in ("out", "data"):
        return st.sampled_from(PLAUSIBLE_PATHS).map(lambda name: f"{SANDBOX}/{name}")
    return st.sampled_from(NAMES)


@st.composite
def tokens(draw: Any, p: Param, real: bool, hostile: bool = True) -> list[str]:
    """The command-line tokens that give ``p`` a hostile (or, with ``hostile=False``, an ordinary) value."""
    if p.kind == "bool":
        return [draw(st.sampled_from([f for f in (p.flag, p.secondary) if f]))] if p.flag else []
    count = draw(st.integers(1, 3)) if p.multiple else p.nargs
    kind = value_text(p, real) if hostile else plausible_text(p)
    values = [draw(kind) for _ in range(count)]
    if p.flag is None:
        return values
    if count == 1 and draw(st.booleans()):
        return [f"{p.flag}={values[0]}"]
    return [p.flag, *values]


@dataclass(frozen=True)
class Call:
    """One drawn call: the command, its argument words and which floats were not finite."""

    command: Command
    args: tuple[str, ...]
    non_finite: tuple[str, ...]

    def resolved(self, sandbox: Path) -> list[str]:
        return [a.replace(SANDBOX, str(sandbox)) for a in self.args]


def _non_finite(p: Param, words: Sequence[str]) -> list[str]:
    if p.kind != "float":
        return []
    values = [w.split("=", 1)[1] if w.startswith("--") and "=" in w else w for w in words]
    return [f"{p.flag} {v}" for v in values if not v.startswith("--") and not is_finite_text(v)]


@st.composite
def calls(draw: Any, commands: Sequence[Command], real: bool = False, max_others: int = 3) -> Call:
    """A hostile call of one of ``commands``: one parameter (an option, or a required argument) gets a
    hostile value, so that each hostile value is judged on its own; up to ``max_others`` other options get
    ordinary values (one time in six a second hostile one); required parameters are filled;
    ``--dry-run`` is added where the command has it (not for real runs)."""
    command = draw(st.sampled_from(list(commands)))
    candidates = command.required + command.optional
    target = draw(st.sampled_from(candidates)) if candidates else None
    others = [p for p in command.optional if p is not target]
    chosen = draw(st.lists(st.sampled_from(others), max_size=max_others, unique_by=lambda p: p.name)) if others else []
    args: list[str] = list(command.path)
    bad: list[str] = []
    for p in command.required:
        words = draw(tokens(p, real, hostile=p is target))
        bad += _non_finite(p, words)
        args += words
    for p in ([target] if target is not None and not target.required else []) + chosen:
        words = draw(tokens(p, real, hostile=p is target or draw(st.integers(0, 5)) == 0))
        bad += _non_finite(p, words)
        args += words
    if command.dry_run and not real:
        args.append("--dry-run")
    return Call(command, tuple(args), tuple(bad))


def exhaustive_calls(command: Command, values: dict[str, Sequence[str]]) -> list[Call]:
    """One dry-run call per (parameter, value) for every parameter of a kind in ``values``: the required
    parameters get ordinary sandbox values, the parameter under test the value."""
    ordinary = {"path": f"{SANDBOX}/cwd/out.csv", "str": "lorenz", "float": "1", "int": "1"}
    out = []
    for target in command.required + command.optional:
        for value in values.get(target.kind, ()):
            args: list[str] = list(command.path)
            for p in command.required + ([target] if not target.required else []):
                given = value if p is target else (p.choices[0] if p.choices else ordinary.get(p.kind, "1"))
                words = [given] * (1 if p.multiple else p.nargs)
                args += ([p.flag] if p.flag else []) + words
            bad = [f"{target.flag} {value}"] if target.kind == "float" and not is_finite_text(value) else []
            out.append(Call(command, (*args, "--dry-run"), tuple(bad)))
    return out


# ------------------------------------------------------------------------------------------- running

class CallTimeout(BaseException):
    """Raised by the alarm inside a call that ran past its limit (a BaseException, so no handler in the
    code under test swallows it)."""


@dataclass
class Outcome:
    """What one call did: exit code, stdout, stderr, seconds, whether it hung, and what it created."""

    exit_code: Optional[int]
    stdout: str
    stderr: str
    seconds: float
    hung: bool = False
    created: list[str] = field(default_factory=list)
    exception: Optional[str] = None


def _snapshot(root: Path) -> set[str]:
    out = set()
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        out.update(os.path.join(rel, n) for n in dirs + files)
    return out


def run_call(args: Sequence[str], sandbox: Path, limit: float) -> Outcome:
    """Run ``pinn ARGS`` in-process (cwd: ``sandbox/cwd``) under a wall-clock limit of ``limit`` seconds."""
    import time

    def alarm(signum: int, frame: Any) -> None:
        raise CallTimeout()

    before = _snapshot(sandbox)
    cwd = os.getcwd()
    os.chdir(sandbox / "cwd")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        result = CliRunner().invoke(cli.main.app, list(args), env={"COLUMNS": "200", "PINN_DEBUG": ""})
        outcome = Outcome(result.exit_code, result.stdout, result.stderr, time.perf_counter() - start,
                          exception=None if result.exception is None or isinstance(result.exception, SystemExit)
                          else f"{type(result.exception).__name__}: {result.exception}")
    except CallTimeout:
        outcome = Outcome(None, "", "", time.perf_counter() - start, hung=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(cwd)
    outcome.created = sorted(_snapshot(sandbox) - before)
    return outcome


WORD_NON_FINITE = re.compile(r"(?<![\w.])[+-]?(nan|inf|infinity)(?![\w])", re.I)
QUOTED = re.compile(r'"[^"\n]*"')


def verdict(call: Call, outcome: Outcome, real: bool = False) -> Optional[str]:
    """None if the outcome obeys the rules (see the module docstring), else what was wrong:
    'hang', 'internal error', 'traceback', 'silent success', 'not one line', 'created files', 'exit N'."""
    if outcome.hung:
        return "hang"
    text = outcome.stdout + outcome.stderr
    if "Traceback" in text:
        return "traceback"
    if outcome.exit_code == 1 or outcome.exception:
        return "internal error"
    if outcome.exit_code == 0:
        if call.non_finite:
            return "silent success"
        if WORD_NON_FINITE.search(QUOTED.sub('""', outcome.stdout)):  # quoted: echoed names and paths
            return "silent success"
        if outcome.created and not real:
            return "created files"
        return None
    if outcome.exit_code != 2:
        return f"exit {outcome.exit_code}"
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if len(lines) != 1 or not lines[0].startswith("pinn: error: "):
        return "not one line"
    if outcome.created and not (real and _kept_on_purpose(outcome.created)):
        return "created files"
    return None


def _kept_on_purpose(created: Iterable[str]) -> bool:
    """A failed real run may leave a folder that records the failure next to results worth keeping."""
    return any(name.endswith(("model.pt", "checkpoint.pt")) for name in created)


# ------------------------------------------------------------------------------------------ the sandbox

def build_sandbox(root: Path) -> Path:
    """Fill ``root`` with the files the path values point at: malformed observations, data files, run
    folders and image folders, plus ``cwd/`` (where calls run). Returns ``root``."""
    root = Path(root)
    (root / "cwd").mkdir(parents=True, exist_ok=True)
    (root / "empty_dir").mkdir(exist_ok=True)
    (root / "file.txt").write_text("not data\n")
    (root / "empty").write_bytes(b"")
    (root / "junk.bin").write_bytes(bytes(range(256)) * 4)
    _observation_files(root)
    _data_files(root)
    _run_folders(root)
    _image_folders(root)
    return root


def _observation_files(root: Path) -> None:
    t = np.linspace(0.0, 1.0, 21)
    rows = [f"{a!r},{np.sin(a)!r},{np.cos(a)!r},{a * a!r}" for a in t]
    (root / "obs.csv").write_text("t,x,y,z\n" + "\n".join(rows) + "\n")
    (root / "obs_quoted.csv").write_text('t,x\n' + "\n".join(f'"{a}","{a}"' for a in t) + "\n")
    (root / "obs_semicolon.csv").write_text("t;x;y;z\n" + "\n".join(r.replace(",", ";") for r in rows) + "\n")
    (root / "obs_ragged.csv").write_text("t,x,y,z\n0,1,2,3\n0.1,1,2\n0.2,1,2,3,4\n0.3,1,2,3\n")
    (root / "obs_latin1.csv").write_bytes("t,x\n0,1\n0.1,\xe9\n".encode("latin-1"))
    (root / "obs_nan.csv").write_text("t,x\n" + "\n".join(f"{a},nan" for a in t) + "\n")
    (root / "obs_inf.csv").write_text("t,x\n" + "\n".join(f"{a},inf" for a in t) + "\n")
    (root / "obs_dup.csv").write_text("t,x\n0,1\n0,2\n0.1,3\n")
    (root / "obs_bom.csv").write_bytes(b"\xef\xbb\xbft,x\n0,1\n0.1,2\n0.2,3\n")


def _data_files(root: Path) -> None:
    t = np.linspace(0.0, 1.0, 11)
    states = np.random.default_rng(0).normal(size=(6, 11, 3))
    np.savez(root / "data.npz", t=t, states=states)
    (root / "bad.npz").write_bytes(b"PK\x03\x04 truncated zip")
    np.savez(root / "wrong.npz", t=t, states=np.ones((11, 3)))
    np.savez(root / "object.npz", t=t, states=np.array([{"a": 1}], dtype=object))


class _Crafted:
    """A pickle whose loading would create a folder (``weights_only=True`` must refuse it)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return os.makedirs, (self.target,)


def _run_folders(root: Path) -> None:
    import torch

    for name, config in (("run_junk", "{"), ("run_list", "[]"),
                         ("run_solve_bad", json.dumps({"command": "solve", "problem": "lorenz",
                                                       "solve": {"method": "nope", "eval_points": -3}}))):
        (root / name).mkdir(exist_ok=True)
        (root / name / "config.json").write_text(config)
    classify = {"dataset": "digits", "model": "notes-digits", "epochs": 1, "batch_size": 100, "optimizer": "sgd",
                "lr": 0.1, "schedule": "constant", "val_fraction": 0.0, "device": "cpu", "amp": False}
    crafted = pickle.dumps({"model": _Crafted(os.path.join("..", "PWNED"))})  # calls run in cwd/: lands in root
    for name, payload in (("run_classify_pickle", crafted), ("run_classify_shape", _torch_bytes(torch, {
            "model": {"1.weight": torch.zeros(1)}, "optimizer": {}, "epoch": 1, "history": [], "best": {}})),
            ("run_classify_keys", _torch_bytes(torch, {"model": "junk", "epoch": "x"}))):
        (root / name).mkdir(exist_ok=True)
        (root / name / "config.json").write_text(json.dumps(classify))
        (root / name / "checkpoint.pt").write_bytes(payload)
    surrogate = {"surrogate": True, "problem": "lorenz", "model": "mlp", "observe": "state",
                 "data": {"dt": 0.01, "substeps": 20, "drive_freqs": []}, "lyapunov": 0.9}
    for name, payload in (("run_surrogate_pickle", crafted),
                          ("run_surrogate_keys", _torch_bytes(torch, {"kind": "network", "spec": {"x": 1}}))):
        (root / name).mkdir(exist_ok=True)
        (root / name / "config.json").write_text(json.dumps(surrogate))
        (root / name / "model.pt").write_bytes(payload)


def _torch_bytes(torch: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def _image_folders(root: Path) -> None:
    (root / "images_empty").mkdir(exist_ok=True)
    trunc, one = root / "images_truncgz", root / "images_one"
    trunc.mkdir(exist_ok=True)
    one.mkdir(exist_ok=True)
    for stem in IDX_STEMS:
        array = np.zeros((1, 28, 28)) if "images" in stem else np.zeros(1)
        blob = gzip.compress(_idx(array))
        (trunc / f"{stem}.gz").write_bytes(blob[: len(blob) // 2])
        (one / f"{stem}.gz").write_bytes(blob)
    cifar = root / "images_cifar_trunc"
    cifar.mkdir(exist_ok=True)
    for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
        (cifar / name).write_bytes(bytes(100))


def is_finite_text(value: str) -> bool:
    """Whether a typed float parses to a finite number (what the rules call a finite value)."""
    try:
        return math.isfinite(float(value))
    except ValueError:
        return True


# ------------------------------------------------------------------------------------------ real runs

REAL_BASES: dict[str, list[str]] = {
    "solve": ["--t-final", "0.3", "--eval-points", "40", "--features", "12", "--points", "16", "--tol", "1e-4",
              "--out", f"{SANDBOX}/cwd/runs"],
    "simulate": ["--out", f"{SANDBOX}/cwd/sim.csv", "--t-final", "0.5"],
    "identify": ["--data", f"{SANDBOX}/obs.csv", "--features", "6", "--points", "8", "--max-iter", "3",
                 "--epochs", "20", "--out", f"{SANDBOX}/cwd/runs"],
    "fourier square": ["--harmonics", "1", "3", "--out", f"{SANDBOX}/cwd/runs"],
    "fourier convergence": ["--harmonics", "1", "2", "--t-final", "1", "--out", f"{SANDBOX}/cwd/runs"],
    "classify digits": ["--model", "notes-digits", "--epochs", "1", "--out", f"{SANDBOX}/cwd/runs"],
    "classify fashion-mnist": ["--model", "notes-digits", "--epochs", "1", "--data-dir", f"{SANDBOX}/images_tiny",
                               "--out", f"{SANDBOX}/cwd/runs"],
    "classify cifar10": ["--model", "notes-cifar", "--epochs", "1", "--data-dir", f"{SANDBOX}/images_cifar_trunc",
                         "--out", f"{SANDBOX}/cwd/runs"],
    "classify compare": ["digits", "--epochs", "1", "--batch-size", "256", "--out", f"{SANDBOX}/cwd/runs"],
    "classify evaluate": [f"{SANDBOX}/run_classify_ok"],
    "surrogate train": ["lorenz", "--model", "sindy", "--trajectories", "4", "--test-trajectories", "1", "--t-final",
                        "1", "--no-reference-span", "--horizon", "0.5", "--out", f"{SANDBOX}/cwd/runs"],
    "surrogate rollout": [f"{SANDBOX}/run_surrogate_ok", "--t-final", "0.5"],
    "sweep": ["--width", "4", "--epochs", "1", "--trajectories", "3", "--test-trajectories", "1", "--t-final", "1",
              "--horizon", "0.5", "--out", f"{SANDBOX}/cwd/sweep"],
    "rerun": [f"{SANDBOX}/run_solve_ok", "--out", f"{SANDBOX}/cwd/runs"],
    "problems": [],
}
"""Tiny settings under which each command (by its first words) runs in about a second; a real-run call
adds one hostile option to these. A command with no entry here is fuzzed by dry runs only."""

REAL_FLOATS = ("nan", "inf", "-inf", "1e309", "-1e309", "0", "-0", "-1", "1e308", "-1e308", "1e-300", "5e-324", "0.5",
               "1", "2")
REAL_INTS = ("-1", "0", "1", "2", "3", "2147483648", "18446744073709551616", "-18446744073709551616", "1e9", "")
"""Values of real runs: invalid ones, extreme ones the checks must refuse, and small valid ones (a huge but
valid value would only make the run long, which dry runs already cover)."""


SLOW_PDE_IDENTIFY = ("burgers", "allen-cahn")
"""PDE identify commands with no tiny settings: their forward model is the problem's default solve (measured
176 s for burgers with --max-iter 3 on 16 x 21 observations), past the real-run time limit; dry runs only."""


def _pde_base(command: Command) -> Optional[list[str]]:
    """Tiny settings of the PDE family (recognised by its options: --points-x for solve, --nx for simulate;
    identify reads the sandbox's pde-NAME.npz made by simulate)."""
    flags = {p.flag for p in command.params}
    name = command.path[-1]
    time = ["--t-final", "0.1"] if "--t-final" in flags else []
    if command.path[0] == "solve" and "--points-x" in flags:
        return [*time, "--cells", "2", "--features", "20", "--points-x", "8", "--points-s", "8", "--epochs", "20",
                "--lbfgs-iters", "5", "--points", "64", "--out", f"{SANDBOX}/cwd/runs"]  # tiny for --method gradient
    if command.path[0] == "simulate" and "--nx" in flags:
        return ["--out", f"{SANDBOX}/cwd/sim.npz", "--nx", "16", *time]
    if command.path[0] == "identify" and "--features" not in flags and name not in SLOW_PDE_IDENTIFY:
        unknown = next(iter(getattr(REGISTRY.get(name), "ranges", {}) or {}), "x")
        return ["--data", f"{SANDBOX}/pde-{name}.npz", "--unknown", unknown, "--max-iter", "3", "--out",
                f"{SANDBOX}/cwd/runs"]
    return None


def real_base(command: Command) -> Optional[list[str]]:
    """The tiny settings of ``command`` (longest matching prefix of its words), or None."""
    pde = _pde_base(command)
    if pde is not None:
        return pde
    for n in range(len(command.path), 0, -1):
        key = " ".join(command.path[:n])
        if key in REAL_BASES:
            return REAL_BASES[key]
    return None


def real_value(p: Param) -> st.SearchStrategy[str]:
    if p.kind == "float":
        return st.sampled_from(REAL_FLOATS)
    if p.kind == "int":
        return st.sampled_from(REAL_INTS)
    return value_text(p, real=True)


@st.composite
def real_calls(draw: Any, commands: Sequence[Command]) -> Call:
    """A real (not dry) call: a command with tiny settings plus one option with a hostile value (given after
    the settings, so it wins)."""
    command = draw(st.sampled_from([c for c in commands if real_base(c) is not None]))
    args = list(command.path) + list(real_base(command) or [])
    bad: list[str] = []
    pool = [p for p in command.optional if p.flag not in ("--dry-run", "--jobs", "--device")]
    if pool:
        p = draw(st.sampled_from(pool))
        if p.kind == "bool":
            words = draw(tokens(p, real=True))
        else:
            count = draw(st.integers(1, 2)) if p.multiple else p.nargs
            values = [draw(real_value(p)) for _ in range(count)]
            words = ([p.flag] if p.flag else []) + values
        bad += _non_finite(p, words)
        args += words
    return Call(command, tuple(args), tuple(bad))


def build_real_sandbox(root: Path) -> Path:
    """:func:`build_sandbox` plus what real runs read: a finished solve, classify and surrogate run folder and
    a tiny Fashion-MNIST folder (built through the real command line)."""
    build_sandbox(root)
    tiny = root / "images_tiny"
    tiny.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem in IDX_STEMS:
        n = 40 if "train" in stem else 10
        array = rng.integers(0, 255, (n, 28, 28)) if "images" in stem else np.arange(n) % 10
        (tiny / f"{stem}.gz").write_bytes(gzip.compress(_idx(array)))
    made = {"run_solve_ok": ["solve", "lorenz", "--t-final", "0.2", "--eval-points", "20", "--features", "10",
                             "--points", "12", "--tol", "1e-4"],
            "run_classify_ok": ["classify", "digits", "--model", "notes-digits", "--epochs", "1"],
            "run_surrogate_ok": ["surrogate", "train", "lorenz", "--model", "sindy", "--trajectories", "4",
                                 "--test-trajectories", "1", "--t-final", "1", "--no-reference-span", "--horizon",
                                 "0.5"]}
    for command in command_tree():  # the PDE family: observations for identify
        if command.path[0] == "simulate" and any(p.flag == "--nx" for p in command.params):
            result = run_call([*command.path, "--out", str(root / f"pde-{command.path[1]}.npz"), "--nx", "16",
                               "--t-final", "0.2"], root, 120.0)
            if result.exit_code != 0:
                raise RuntimeError(f"could not simulate {command.path[1]}: {result.stderr or result.stdout}")
    for name, args in made.items():
        out = root / f"made-{name}"
        result = run_call([*args, "--out", str(out)], root, 120.0)
        if result.exit_code != 0:
            raise RuntimeError(f"could not make {name}: {result.stderr or result.stdout}")
        (folder,) = [p for p in out.iterdir() if p.is_dir()]
        folder.rename(root / name)
        out.rmdir()
    return root


# ------------------------------------------------------------------------------------------ campaigns

def remove_created(sandbox: Path, created: Iterable[str]) -> None:
    """Undo what a call created in the sandbox (deepest first), so the next call starts from the same state."""
    import shutil

    for rel in sorted(created, key=lambda r: r.count(os.sep), reverse=True):
        path = sandbox / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink()
            except OSError:
                pass


def call_from_line(line: str, commands: Sequence[Command]) -> Call:
    """A corpus line (``pinn solve lorenz --rho nan --dry-run``, shell quoting; ``\\x00`` escapes in ASCII
    words are decoded) as a :class:`Call`, with the non-finite values given to float options found by walking
    its words."""
    import shlex

    words = [w.encode().decode("unicode_escape") if "\\" in w and w.isascii() else w for w in shlex.split(line)]
    if words and words[0] == "pinn":
        words = words[1:]
    command = max((c for c in commands if tuple(words[:len(c.path)]) == c.path), key=lambda c: len(c.path),
                  default=Command(tuple(words[:1]), ()))
    flags = {p.flag: p for p in command.params if p.flag}
    bad: list[str] = []
    rest = words[len(command.path):]
    for i, word in enumerate(rest):
        name, eq, inline = word.partition("=")
        p = flags.get(name)
        if p is None or p.kind != "float":
            continue
        values = [inline] if eq else []
        for nxt in rest[i + 1:]:
            if len(values) >= (99 if p.multiple else p.nargs) or (nxt.startswith("--") and is_finite_text(nxt)):
                break
            values.append(nxt)
        bad += [f"{name} {v}" for v in values if not is_finite_text(v)]
    return Call(command, tuple(words), tuple(bad))


def read_corpus(path: Path) -> list[tuple[str, Optional[str]]]:
    """(command line, xfail reason or None) of every line of the corpus; '#' starts a comment line, and
    ``xfail: REASON | COMMAND`` marks a known failure in code another change owns."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        reason = None
        if line.startswith("xfail:"):
            reason, _, line = line[len("xfail:"):].partition("|")
            reason, line = reason.strip(), line.strip()
        out.append((line, reason))
    return out


@dataclass
class Tally:
    """Counts of a fuzz campaign: calls, exits, verdicts, the first example of each kind of failure, and
    every failing call (its words, the verdict and the message's last line)."""

    calls: int = 0
    exits: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    examples: dict = field(default_factory=dict)
    commands: set = field(default_factory=set)
    failing: list = field(default_factory=list)

    def add(self, call: Call, outcome: Outcome, problem: Optional[str]) -> None:
        self.calls += 1
        self.commands.add(call.command.name)
        key = "hang" if outcome.hung else str(outcome.exit_code)
        self.exits[key] = self.exits.get(key, 0) + 1
        if problem:
            self.failures[problem] = self.failures.get(problem, 0) + 1
            self.examples.setdefault(problem, (call.args, (outcome.stderr or outcome.stdout)[-300:]))
            self.failing.append((problem, " ".join(call.args), (outcome.stderr or outcome.stdout).strip()[-200:]))

    def count(self, problem: str) -> int:
        return self.failures.get(problem, 0)


REAL_EXTREMES = ("5e-324", "1e-300", "-1e-300", "1e300", "-1e300")
"""Valid-looking extremes every float option of a real run is given once: values inside an option's range
whose square underflows or whose products overflow must be refused, not computed into NaN."""


def exhaustive_real_calls(command: Command, values: Sequence[str] = REAL_EXTREMES) -> list[Call]:
    """One real call per (float option, value) on the tiny settings of ``command`` (none without them)."""
    base = real_base(command)
    if base is None:
        return []
    out = []
    for p in command.optional:
        if p.kind != "float" or p.flag is None:
            continue
        for value in values:
            words = [value] * (1 if p.multiple else p.nargs)
            out.append(Call(command, (*command.path, *base, p.flag, *words), ()))
    return out
