"""Files handed to pinn, read strictly: CSV observations, NPZ data, IDX/CIFAR images, config.json and
checkpoints. Each malformed file is one PinnError naming the file and the problem; a crafted pickle is
refused without running; a checkpoint of the wrong shape never reaches a model."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cli.main import app
from pinn.errors import PinnError
from pinn.files import check_state_dict, load_checkpoint, read_csv, read_json, read_npz


@pytest.mark.parametrize("content, message", [
    ('t,x\n"0","1"\n', "quoted field"),
    ("t;x\n0;1\n", "separates its fields with semicolons"),
    ("t\tx\n0\t1\n", "separates its fields with tabs"),
    ("t,x\n0,1\n0.1\n", "row 3: 1 fields but the header has 2"),
    ("t,x\n0,1,2\n", "row 2: 3 fields but the header has 2"),
    ("t,x\n0,abc\n", "row 2, column x: 'abc' is not a number"),
    ("", "is empty"),
    ("\n\n", "is empty"),
    (",x\n0,1\n", "needs a plain name in every column"),
    ('"t",x\n0,1\n', "needs a plain name in every column"),
])
def test_a_malformed_csv_is_one_error_naming_the_file_and_the_place(tmp_path: Path, content: str,
                                                                    message: str) -> None:
    path = tmp_path / "obs.csv"
    path.write_text(content)
    with pytest.raises(PinnError, match=message) as info:
        read_csv(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_csv_reads_numbers_missing_cells_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes(b"\xef\xbb\xbft, x ,y\n0,1.5,\n0.1,nan,2e-3\n\n")
    header, data = read_csv(path)
    assert header == ["t", "x", "y"] and data.shape == (2, 3)
    assert data[0, 1] == 1.5 and np.isnan(data[0, 2]) and np.isnan(data[1, 1]) and data[1, 2] == 2e-3


def test_non_utf8_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes("t,x\n0,\xe9\n".encode("latin-1"))
    with pytest.raises(PinnError, match="is not UTF-8 text"):
        read_csv(path)


@pytest.mark.slow
def test_a_million_row_observation_file_is_read_and_the_fit_estimated_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    t = np.arange(1_000_000) * 1e-3
    with open(path, "w") as handle:
        handle.write("t,x\n")
        np.savetxt(handle, np.column_stack([t, np.sin(t)]), delimiter=",", fmt="%.9g")
    start = time.process_time()
    result = CliRunner().invoke(app, ["identify", "lorenz", "--data", str(path), "--unknown", "sigma",
                                      "--dry-run", "--out", str(tmp_path / "runs")])
    seconds = time.process_time() - start
    assert result.exit_code == 0, result.output
    assert "observations 1000000" in result.output and "windows 5000" in result.output
    assert seconds < 30, seconds  # measured ~6 s of process time (reading 1e6 rows with the csv module)
    absurd = CliRunner().invoke(app, ["identify", "lorenz", "--data", str(path), "--unknown", "sigma",
                                      "--max-iter", "1000000", "--out", str(tmp_path / "runs")])
    assert absurd.exit_code == 2
    assert "needs up to about" in absurd.stderr and "more than the limit of 7 days" in absurd.stderr
    assert not (tmp_path / "runs").exists()


def test_npz_readers_refuse_pickles_truncation_and_missing_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "object.npz", states=np.array([{"a": 1}], dtype=object))
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 not a whole archive")
    np.savez(tmp_path / "good.npz", t=np.arange(3.0))
    for name, message in (("object.npz", "cannot read .* as NPZ"), ("cut.npz", "cannot read .* as NPZ"),
                          ("good.npz", "lacks the array states")):
        with pytest.raises(PinnError, match=message):
            read_npz(tmp_path / name, ("t", "states"))
    with pytest.raises(PinnError, match="no data file"):
        read_npz(tmp_path)


class _Payload:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return os.makedirs, (self.target,)


def test_a_crafted_pickle_checkpoint_is_refused_without_running(tmp_path: Path) -> None:
    target = tmp_path / "PWNED"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"model": _Payload(str(target))}))
    with pytest.raises(PinnError, match="is not a checkpoint pinn can load safely"):
        load_checkpoint(path)
    buffer = io.BytesIO()
    torch.save({"model": _Payload(str(target))}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(PinnError, match="can load safely"):
        load_checkpoint(path)
    assert not target.exists()


def test_checkpoints_are_checked_for_keys_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save([1, 2], path)
    with pytest.raises(PinnError, match="holds a list"):
        load_checkpoint(path)
    torch.save({"model": {}}, path)
    with pytest.raises(PinnError, match="lacks 'epoch'"):
        load_checkpoint(path, ("model", "epoch"))
    expected = torch.nn.Linear(3, 2).state_dict()
    with pytest.raises(PinnError, match="'weight' is \\(2, 4\\), expected \\(2, 3\\)"):
        check_state_dict(expected, {"weight": torch.zeros(2, 4), "bias": torch.zeros(2)}, path)
    with pytest.raises(PinnError, match="lacks 'bias'"):
        check_state_dict(expected, {"weight": torch.zeros(2, 3)}, path)
    with pytest.raises(PinnError, match="not a mapping"):
        check_state_dict(expected, "junk", path)
    check_state_dict(expected, expected, path)


def test_json_readers_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(PinnError, match="not valid JSON"):
        read_json(tmp_path / "config.json")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PinnError, match="nested too deeply"):
        read_json(tmp_path / "deep.json")
    with pytest.raises(PinnError, match="is a folder"):
        read_json(tmp_path)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _fashion_folder(folder: Path, n_train: int, n_test: int, cut: bool = False) -> Path:
    folder.mkdir()
    for stem in STEMS:
        n = n_train if "train" in stem else n_test
        blob = gzip.compress(_idx(np.zeros((n, 28, 28)) if "images" in stem else np.zeros(n)))
        (folder / f"{stem}.gz").write_bytes(blob[: len(blob) // 2] if cut else blob)
    return folder


@pytest.mark.parametrize("n_train, n_test, cut, message", [
    (40, 10, True, "is not a readable IDX file"),
    (1, 1, False, "1 training and 1 test images are too few"),
    (0, 0, False, "0 training and 0 test images are too few"),
])
def test_image_folders_that_are_truncated_or_too_small_are_one_line(tmp_path: Path, n_train: int, n_test: int,
                                                                    cut: bool, message: str) -> None:
    folder = _fashion_folder(tmp_path / "data", n_train, n_test, cut)
    result = CliRunner().invoke(app, ["classify", "fashion-mnist", "--model", "notes-digits", "--epochs", "1",
                                      "--data-dir", str(folder), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("config, message", [
    ({"dataset": "digits"}, "lacks model, epochs"),
    ({"dataset": "digits", "model": "notes-digits", "epochs": "x", "batch_size": 1, "optimizer": "sgd", "lr": 0.1,
      "schedule": "constant"}, "epochs: expected a whole number"),
    ({"dataset": "digits", "model": "notes-digits", "epochs": 1, "batch_size": 1, "optimizer": "sgd", "lr": "nan",
      "schedule": "constant"}, "--lr must be a number"),
    ({"dataset": "mnist", "model": "notes-digits", "epochs": 1, "batch_size": 1, "optimizer": "sgd", "lr": 0.1,
      "schedule": "constant"}, "'mnist' is not one of"),
])
def test_a_classify_config_json_of_the_wrong_shape_is_one_line(tmp_path: Path, config: dict, message: str) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["classify", "evaluate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
