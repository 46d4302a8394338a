"""Error metrics and run-folder helpers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pinn.metrics import pointwise_relative_error, relative_l2, solution_metrics, time_to_threshold
from pinn.errors import PinnError
from pinn.runs import check_output_root, new_run_dir, read_csv, save_checkpoint, write_csv, write_json


def test_relative_l2_of_a_known_perturbation() -> None:
    ref = np.ones((100, 2))
    assert abs(relative_l2(ref * 1.01, ref) - 0.01) < 1e-14


def test_time_to_threshold_finds_the_first_crossing() -> None:
    t = np.linspace(0, 10, 1001)
    err = 1e-6 * np.exp(t)  # crosses 1e-2 at t = ln(1e4) = 9.2103
    assert abs(time_to_threshold(t, err, 1e-2) - math.log(1e4)) < 0.011
    assert time_to_threshold(t, err * 0, 1e-2) is None


def test_pointwise_error_is_normalised_by_the_rms_size() -> None:
    ref = np.stack((np.sin(np.linspace(0, 6, 50)), np.zeros(50)), axis=1)
    u = ref + 1e-3
    e = pointwise_relative_error(u, ref)
    assert np.allclose(e, np.sqrt(2) * 1e-3 / np.sqrt(np.mean(ref[:, 0] ** 2)))


def test_solution_metrics_keys() -> None:
    t = np.linspace(0, 1, 2000)
    ref = np.stack((t, t ** 2), axis=1)
    m = solution_metrics(t, ref + 1e-9, ref, np.full_like(ref, 1e-7), ("x", "v"))
    assert m["eval_points"] == 2000 and m["time_to_1pct"] is None
    assert m["max_abs_residual"] == 1e-7 and set(m["relative_l2_per_component"]) == {"x", "v"}


def test_csv_round_trip_keeps_full_precision(tmp_path: Path) -> None:
    t = np.linspace(0, 1, 7) / 3.0
    write_csv(tmp_path / "a.csv", ["t", "x"], [t, np.pi * t])
    header, data = read_csv(tmp_path / "a.csv")
    assert header == ["t", "x"] and np.array_equal(data[:, 1], np.pi * t)


def test_run_dirs_are_unique_and_json_handles_nan(tmp_path: Path) -> None:
    a, b = new_run_dir(tmp_path, "lorenz"), new_run_dir(tmp_path, "lorenz")
    assert a != b and a.is_dir() and b.is_dir()
    write_json(a / "m.json", {"x": float("nan"), "y": np.float64(2.0)})
    assert json.loads((a / "m.json").read_text()) == {"x": "nan", "y": 2.0}


def test_checkpoint_loads_with_weights_only(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "m.pt", {"state": {"w": torch.ones(2)}, "config": {"lr": 1e-3}})
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    assert ckpt["config"]["lr"] == 1e-3 and not (tmp_path / "m.pt.tmp").exists()


@pytest.mark.parametrize("below", ["", "deeper/still"])
def test_an_output_root_at_or_below_a_file_is_refused_before_any_work(tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    root = blocker / below if below else blocker
    with pytest.raises(PinnError, match="results.txt is a file, not a folder; choose another --out"):
        check_output_root(root)
    with pytest.raises(PinnError, match="is a file, not a folder"):
        new_run_dir(root, "lorenz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.txt"] and blocker.read_text() == "not a folder"
    check_output_root(tmp_path / "new" / "folder")  # a folder that can be created is fine
