"""The command line's shared plumbing: the one parser of multi-value options, generated commands, help."""

from __future__ import annotations

import pytest

from cli.main import app
from cli.options import expand_multi_values

MULTI = {"--unknown", "--guess", "--harmonics"}


@pytest.mark.parametrize("args, expected", [
    (["--unknown", "sigma", "rho", "--weight", "10"], ["--unknown", "sigma", "--unknown", "rho", "--weight", "10"]),
    (["--guess", "sigma=3,rho=-2"], ["--guess", "sigma=3", "--guess", "rho=-2"]),
    (["--harmonics", "1", "5", "-20"], ["--harmonics", "1", "--harmonics", "5", "--harmonics", "-20"]),
    (["--harmonics=7", "--out", "x"], ["--harmonics", "7", "--out", "x"]),
    (["--unknown", "a", "--", "--unknown", "b"], ["--unknown", "a", "--", "--unknown", "b"]),
    (["--ic", "-8", "7", "27"], ["--ic", "-8", "7", "27"]),
])
def test_multi_value_options_take_several_values_after_one_flag(args: list[str], expected: list[str]) -> None:
    assert expand_multi_values(args, MULTI) == expected


def test_help_shows_vectors_by_component_and_flags_without_placeholders(runner) -> None:
    result = runner.invoke(app, ["solve", "lorenz", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "X Y Z" in result.output
    assert "<bool>" not in result.output
    assert "[default: x=-8 y=7 z=27]" in result.output  # brackets in help are text, not markup


def test_every_registered_problem_has_solve_and_simulate_commands(runner) -> None:
    from pinn.spec import ODESpec
    from problems import REGISTRY

    for spec in REGISTRY:
        for command in ("solve", "simulate") if isinstance(spec, ODESpec) else ("solve",):
            result = runner.invoke(app, [command, spec.name, "--help"], env={"COLUMNS": "250"})
            assert result.exit_code == 0, (command, spec.name, result.output)
            for p in spec.parameters:
                assert p.option in result.output, (command, spec.name, p.option)


def test_a_list_option_without_values_is_one_clear_error() -> None:
    from pinn.errors import PinnError

    with pytest.raises(PinnError, match="--unknown was given no values"):
        expand_multi_values(["--unknown", "--out", "x"], MULTI)


def test_top_level_help_lists_every_command_with_its_summary(runner) -> None:
    from cli.main import COMMANDS

    result = runner.invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for name, (_, summary) in COMMANDS.items():
        assert name in result.output and summary in result.output, name


def test_a_mistyped_command_is_one_line_naming_the_closest(runner) -> None:
    result = runner.invoke(app, ["slove", "lorenz"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "No such command 'slove'. Did you mean 'solve'?" in line and "rerun" in line
