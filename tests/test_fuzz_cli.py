"""The command line under hostile input: every option of every command, drawn by hypothesis.

The command tree is read from the real click command, so a new command or option is fuzzed without
editing this file (see tests/clifuzz.py for the strategies and the rules). Each call must end with exit 0
and finite results, or exit 2 and exactly one line with nothing created; never exit 1, a traceback or a
hang (a per-call time limit); NaN or an infinity for any float option is always exit 2.

Profiles: the default keeps this file under a minute (fixed example budgets); ``PINN_FUZZ_PROFILE=slow``
(or the slow-marked deep test) draws thousands of calls. tests/hostile_corpus.txt replays every hostile
command line found so far with the same rules.
"""

from __future__ import annotations

import os
from pathlib import Path

import clifuzz
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

PROFILES = {"default": {"dry": 100, "real": 6}, "slow": {"dry": 2500, "real": 150}}
PROFILE = os.environ.get("PINN_FUZZ_PROFILE", "default")
for _name, _budget in PROFILES.items():
    settings.register_profile(f"pinn-fuzz-{_name}", max_examples=_budget["dry"], deadline=None, database=None,
                              derandomize=_name == "default", phases=[Phase.explicit, Phase.generate],
                              suppress_health_check=list(HealthCheck))
BUDGET = PROFILES[PROFILE]
DRY_LIMIT = 30.0  # seconds per dry run: validation only, typically well under one
REAL_LIMIT = 120.0  # seconds per tiny real run, typically one or two
CORPUS = Path(__file__).with_name("hostile_corpus.txt")
COMMANDS = clifuzz.command_tree()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Malformed files, run folders of every kind (finished ones too) and image folders (see clifuzz). Under
    xdist the first worker builds it once for the session (the others wait on a lock) and each copies it."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:
        return clifuzz.build_real_sandbox(tmp_path_factory.mktemp("fuzz"))
    import fcntl
    import shutil

    shared = tmp_path_factory.getbasetemp().parent / f"fuzz-sandbox-{run_id}"
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / ".complete").exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            clifuzz.build_real_sandbox(shared)
            (shared / ".complete").touch()
    own = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(shared, own, symlinks=True, dirs_exist_ok=True)
    (own / ".complete").unlink()
    return own


def judge(call: clifuzz.Call, sandbox: Path, limit: float, real: bool) -> tuple[clifuzz.Outcome, str | None]:
    outcome = clifuzz.run_call(call.resolved(sandbox), sandbox, limit)
    problem = clifuzz.verdict(call, outcome, real)
    clifuzz.remove_created(sandbox, outcome.created)
    return outcome, problem


def explain(call: clifuzz.Call, outcome: clifuzz.Outcome, problem: str | None) -> str:
    return (f"{problem}: pinn {' '.join(map(repr, call.args))} -> exit {outcome.exit_code} after "
            f"{outcome.seconds:.1f} s; stderr {outcome.stderr[-400:]!r}; stdout {outcome.stdout[-300:]!r}; "
            f"created {outcome.created[:4]}; exception {outcome.exception}")


def test_the_tree_walk_sees_every_command_and_every_creating_command_has_a_dry_run() -> None:
    names = {c.name for c in COMMANDS}
    assert {"solve lorenz", "simulate oscillator", "identify van-der-pol", "fourier square", "classify digits",
            "classify compare", "surrogate train", "surrogate rollout", "sweep lorenz", "rerun"} <= names
    kinds = {p.kind for c in COMMANDS for p in c.params}
    assert {"float", "int", "str", "path", "bool", "choice"} <= kinds
    without = sorted(c.name for c in COMMANDS if not c.dry_run and c.name != "problems")
    assert not without, f"commands without --dry-run: {without}"


def test_nan_given_to_any_float_option_is_counted_as_invalid() -> None:
    call = clifuzz.call_from_line("pinn simulate lorenz --rho nan --ic 1 1e309 1 --every=inf --noise 0.1", COMMANDS)
    assert call.non_finite == ("--rho nan", "--ic 1e309", "--every inf")
    outcome = clifuzz.Outcome(0, "wrote 3 observations", "", 0.1)
    assert clifuzz.verdict(call, outcome) == "silent success"  # the rule the fuzzing enforces can fail


EXHAUSTIVE = {"float": ("nan",), "int": ("18446744073709551616",), "path": ("bad\x00name",)}
"""Values every float, whole-number and path option of every command is given once (in a dry run)."""
EXHAUSTIVE_SLOW = {"float": ("-inf",), "path": ("/dev/null/x",)}
"""The rest of the values this test always gave, for ``make test-all``."""


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.dry_run], ids=lambda c: c.name)
def test_every_option_of_the_command_refuses_nan_huge_integers_and_bad_paths(sandbox: Path,
                                                                           command: clifuzz.Call) -> None:
    _assert_every_option_refuses(sandbox, command, EXHAUSTIVE)


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in COMMANDS if c.dry_run], ids=lambda c: c.name)
def test_every_option_of_the_command_refuses_infinities_and_more_bad_paths(sandbox: Path,
                                                                          command: clifuzz.Call) -> None:
    _assert_every_option_refuses(sandbox, command, EXHAUSTIVE_SLOW)


def _assert_every_option_refuses(sandbox: Path, command: clifuzz.Call, values: dict[str, tuple[str, ...]]) -> None:
    failures = []
    for call in clifuzz.exhaustive_calls(command, values):
        outcome, problem = judge(call, sandbox, DRY_LIMIT, real=False)
        if problem is not None:
            failures.append(explain(call, outcome, problem))
    assert not failures, "\n".join(failures)


@pytest.mark.timeout(3600)
@settings(settings.get_profile(f"pinn-fuzz-{PROFILE}"))
@given(data=st.data())
def test_hostile_dry_runs_exit_0_or_2_with_one_line(sandbox: Path, data: st.DataObject) -> None:
    call = data.draw(clifuzz.calls(COMMANDS))
    outcome, problem = judge(call, sandbox, DRY_LIMIT, real=False)
    assert problem is None, explain(call, outcome, problem)


@pytest.mark.timeout(3600)
@settings(settings.get_profile(f"pinn-fuzz-{PROFILE}"), max_examples=BUDGET["real"])
@given(data=st.data())
def test_hostile_tiny_real_runs_exit_0_or_2_and_leave_no_partial_folder(sandbox: Path,
                                                                        data: st.DataObject) -> None:
    call = data.draw(clifuzz.real_calls(COMMANDS))
    outcome, problem = judge(call, sandbox, REAL_LIMIT, real=True)
    assert problem is None, explain(call, outcome, problem)


@pytest.mark.parametrize("line, reason", clifuzz.read_corpus(CORPUS), ids=lambda v: str(v)[:60])
def test_hostile_corpus_line(sandbox: Path, line: str, reason: str | None) -> None:
    if reason:
        pytest.xfail(reason)
    call = clifuzz.call_from_line(line, COMMANDS)
    real = "--dry-run" not in call.args
    outcome, problem = judge(call, sandbox, REAL_LIMIT if real else DRY_LIMIT, real)
    assert problem is None, explain(call, outcome, problem)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_deep_fuzz_of_every_command_finds_no_internal_error_hang_or_silent_success(sandbox: Path) -> None:
    tally = clifuzz.Tally()
    deep = settings.get_profile("pinn-fuzz-slow")

    @settings(deep, derandomize=False)
    @given(data=st.data())
    def dry(data: st.DataObject) -> None:
        call = data.draw(clifuzz.calls(COMMANDS))
        outcome, problem = judge(call, sandbox, DRY_LIMIT, real=False)
        tally.add(call, outcome, problem)

    @settings(deep, derandomize=False, max_examples=PROFILES["slow"]["real"])
    @given(data=st.data())
    def real(data: st.DataObject) -> None:
        call = data.draw(clifuzz.real_calls(COMMANDS))
        outcome, problem = judge(call, sandbox, REAL_LIMIT, real=True)
        tally.add(call, outcome, problem)

    dry()
    real()
    assert tally.calls >= 2000
    assert tally.commands >= {c.name for c in COMMANDS}, sorted({c.name for c in COMMANDS} - tally.commands)
    assert not tally.failures, (tally.failures, tally.examples)


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c in COMMANDS if clifuzz.real_base(c) is not None], ids=lambda c: c.name)
def test_extreme_valid_floats_in_real_runs_give_finite_results_or_one_line(sandbox: Path,
                                                                         command: clifuzz.Command) -> None:
    failures = []
    for call in clifuzz.exhaustive_real_calls(command):
        outcome, problem = judge(call, sandbox, REAL_LIMIT, real=True)
        if problem is not None:
            failures.append(explain(call, outcome, problem))
    assert not failures, "\n".join(failures)
