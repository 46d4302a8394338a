"""The grid study: points, settings per point, a 4-point sweep that resumes without recomputing."""

from __future__ import annotations

import csv

import pytest

from pinn.choices import Activation, DType, Optimizer
from pinn.errors import PinnError
from pinn.surrogate.data import DataConfig, make_dataset
from pinn.surrogate.models import ModelSpec
from pinn.surrogate.sweep import (
    DEFAULT_LR,
    SweepAxis,
    SweepConfig,
    markdown_table,
    parse_axis_values,
    point_key,
    point_settings,
    prepare_folder,
    run_sweep,
    summarise,
)
from pinn.surrogate.train import TrainConfig
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants


def tiny_config(**grid_values) -> SweepConfig:
    grid = tuple((SweepAxis(k), parse_axis_values(SweepAxis(k), [str(v) for v in vals]))
                 for k, vals in grid_values.items())
    return SweepConfig("lorenz", grid, ModelSpec(width=8, depth=1, precision=DType.float32),
                       TrainConfig(optimizer=Optimizer.adam, epochs=2, batch_size=256, stride=4), horizon=1.0)


def test_axis_values_are_typed_and_checked():
    assert parse_axis_values(SweepAxis.width, ["16", "64", "16"]) == (16, 64)
    assert parse_axis_values(SweepAxis.optimizer, ["sgd-momentum"]) == (Optimizer.sgd_momentum,)
    assert parse_axis_values(SweepAxis.activation, ["silu"]) == (Activation.silu,)
    with pytest.raises(PinnError):
        parse_axis_values(SweepAxis.width, [])
    with pytest.raises(PinnError):
        parse_axis_values(SweepAxis.activation, ["swish"])


def test_grid_points_and_their_settings():
    config = tiny_config(width=[4, 8], optimizer=["sgd", "adam"], dropout=[0.1])
    points = config.points()
    assert len(points) == 4 and point_key(points[0]) == "width=4|optimizer=sgd|dropout=0.1"
    spec, train = point_settings(config, points[0])
    assert spec.width == 4 and spec.dropout == 0.1 and train.optimizer is Optimizer.sgd
    assert train.lr == DEFAULT_LR[Optimizer.sgd]
    with pytest.raises(PinnError):
        SweepConfig("lorenz", ((SweepAxis.width, ()),), ModelSpec(), TrainConfig())


def test_four_point_sweep_runs_resumes_and_writes_csv(tmp_path):
    config = tiny_config(width=[4, 8], optimizer=["sgd", "adam"])
    data = make_dataset(lorenz_rhs, 3, DataConfig(n_traj=4, n_test=2, t_final=1.0, substeps=2))
    folder = tmp_path / "sweep"
    prepare_folder(folder, config, data, lorenz_rhs)
    seen = []
    rows = run_sweep(folder, config, jobs=1, on_point=lambda row, done, total: seen.append(row["key"]))
    assert len(rows) == 4 and len(seen) == 4
    assert all(not str(r["stopped"]).startswith("failed") for r in rows)
    with open(folder / "results.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["key"] for r in table] == [point_key(p) for p in config.points()]
    assert float(table[0]["one_step_median"]) > 0

    # resume: nothing is recomputed, and a larger grid computes only its new points
    seen.clear()
    again = run_sweep(folder, config, jobs=1, on_point=lambda row, done, total: seen.append(row["key"]))
    assert seen == [] and [r["key"] for r in again] == [r["key"] for r in rows]
    bigger = tiny_config(width=[4, 8, 12], optimizer=["sgd", "adam"])
    prepare_folder(folder, bigger, data, lorenz_rhs)
    run_sweep(folder, bigger, jobs=1, on_point=lambda row, done, total: seen.append(row["key"]))
    assert sorted(seen) == ["width=12|optimizer=adam", "width=12|optimizer=sgd"]

    written = summarise(folder, again, config)
    assert {p.name for p in written} >= {"results.md", "heatmap_optimizer_width.png", "bars_width_one_step.png"}
    assert markdown_table(again, config.axes).count("\n") == 6


def test_folder_with_other_fixed_settings_is_refused(tmp_path):
    data = make_dataset(lorenz_rhs, 3, DataConfig(n_traj=4, n_test=2, t_final=0.5, substeps=2))
    prepare_folder(tmp_path, tiny_config(width=[4]), data, lorenz_rhs)
    other = tiny_config(width=[4])
    other = SweepConfig(other.problem, other.grid, other.spec, TrainConfig(epochs=3), horizon=1.0)
    with pytest.raises(PinnError):
        prepare_folder(tmp_path, other, data, lorenz_rhs)
