"""``pinn classify --backend numpy``: the NumPy twin of each torch network, the shared training loop, the
run folder, grid search, resume, ``classify compare`` and the failure paths through the command line."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cli.main import app
from pinn.errors import PinnError
from pinn.vision import train as train_module
from pinn.vision.backend import NUMPY_MODELS
from pinn.vision.config import default_config
from pinn.vision.datasets import load_digits
from pinn.vision.distributed import Cluster
from pinn.vision.models import build_model
from pinn.vision.names import ModelName
from pinn.vision.scratch_backend import classifier_from_torch
from pinn.vision.train import load_checkpoint, predict_logits, score, train_classifier

CPU = Cluster(0, 1, torch.device("cpu"))
FLOAT32_ROUND_OFF = 2e-5  # measured: at most 2.0e-6 relative over the models below (float32 sums)


@pytest.fixture(scope="module")
def digits():
    return load_digits(split_seed=0)


@pytest.fixture(scope="module")
def few_digits(digits):
    return dataclasses.replace(digits, x_train=digits.x_train[:400], y_train=digits.y_train[:400])


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def only_run(folder: Path) -> Path:
    (run,) = [p for p in folder.iterdir() if p.is_dir()]
    return run


@pytest.mark.parametrize("name,shape", [("notes-digits", (1, 8, 8)), ("digits-cnn", (1, 8, 8)),
                                        ("fashion-cnn", (1, 28, 28)), ("notes-cifar", (3, 32, 32))])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_numpy_twin_computes_the_torch_network_to_round_off(name, shape, mode):
    assert name in NUMPY_MODELS
    torch.manual_seed(0)
    model = build_model(ModelName(name), shape, 10, [0.4] * shape[0], [0.3] * shape[0])
    twin = classifier_from_torch(model)
    getattr(model, mode)()
    getattr(twin, mode)()  # train: batch-norm layers normalise with the batch's statistics
    x = torch.rand(16, *shape)
    with torch.no_grad():
        reference = model(x)
    assert float((twin(x) - reference).abs().max() / reference.abs().max()) < FLOAT32_ROUND_OFF
    assert set(twin.state_dict()) == set(model.state_dict())


@pytest.mark.parametrize("model,settings", [
    ("notes-digits", dict(epochs=3, optimizer="sgd-momentum", lr=0.05, l2=1e-3)),
    ("digits-cnn", dict(epochs=2, dropout=0.0, optimizer="nesterov", lr=0.05, schedule="step", val_fraction=0.1)),
])
def test_numpy_backend_retraces_the_torch_training_step_for_step(digits, one_thread, model, settings):
    # Same initial weights, batches and schedule; float32 in both. Measured: per-epoch training losses
    # agree to 1.3e-7 (notes-digits) and 2.8e-6 (digits-cnn, batch norm) relative; all test predictions equal.
    runs = {b: train_classifier(default_config("digits", model, backend=b, amp=False, **settings), digits, CPU)
            for b in ("torch", "numpy")}
    for mine, theirs in zip(runs["numpy"].history, runs["torch"].history):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=3e-5)
        assert mine["lr"] == theirs["lr"]
    logits = {b: predict_logits(r.model, digits.x_test, CPU) for b, r in runs.items()}
    assert torch.equal(logits["numpy"].argmax(1), logits["torch"].argmax(1))


def test_numpy_training_of_the_notes_network_reaches_measured_accuracy(digits):
    # Measured: 20 epochs of the notes' recipe (SGD, lr 0.1, batch 100) give 95.6 % for seeds 0 and 1, the
    # same as the torch backend.
    outcome = train_classifier(default_config("digits", "notes-digits", epochs=20, backend="numpy"), digits, CPU)
    assert score(predict_logits(outcome.model, digits.x_test, CPU), digits.y_test)[1] >= 0.93


def test_a_numpy_checkpoint_loads_into_the_torch_network(few_digits, digits, tmp_path):
    cfg = default_config("digits", "digits-cnn", epochs=1, backend="numpy")
    outcome = train_classifier(cfg, few_digits, CPU, run_dir=tmp_path)
    state = load_checkpoint(tmp_path)
    torch_model = build_model(cfg.model, (1, 8, 8), 10, [0.0], [1.0], cfg.dropout)
    torch_model.load_state_dict(state["model"])
    mine, theirs = (predict_logits(m, digits.x_test, CPU) for m in (outcome.model, torch_model))
    assert float((mine - theirs).abs().max() / theirs.abs().max()) < FLOAT32_ROUND_OFF


def test_numpy_resume_retraces_the_interrupted_run(few_digits, tmp_path, monkeypatch):
    cfg = default_config("digits", epochs=3, backend="numpy", val_fraction=0.1)  # digits-cnn: dropout 0.2, AdamW
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    straight = train_classifier(cfg, few_digits, CPU, run_dir=tmp_path / "a")
    saved = train_module.save_checkpoint

    def interrupt_after_two(path, state):
        saved(path, state)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(cfg, few_digits, CPU, run_dir=tmp_path / "b")
    monkeypatch.setattr(train_module, "save_checkpoint", saved)
    resumed = train_classifier(cfg, few_digits, CPU, run_dir=tmp_path / "b", resume=load_checkpoint(tmp_path / "b"))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    assert resumed.history[2]["train_loss"] == straight.history[2]["train_loss"]  # NumPy is deterministic
    for name, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_models_the_numpy_backend_cannot_build_are_refused_with_a_hint():
    with pytest.raises(PinnError, match="--backend numpy builds .*cifar-resnet needs --backend torch"):
        default_config("cifar10", backend="numpy")
    with pytest.raises(PinnError, match="CPU"):
        default_config("digits", backend="numpy", device="cuda")


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(app, ["classify", *map(str, args)])
        return result, result.output

    return invoke


RUN_FILES = ("config.json", "metrics.json", "history.csv", "checkpoint.pt", "curves.png", "confusion.png",
             "samples.png", "mistakes.png")


def test_numpy_backend_writes_the_same_run_folder_and_evaluates(cli, tmp_path):
    result, text = cli("digits", "--backend", "numpy", "--model", "notes-digits", "--epochs", "20", "--out", tmp_path)
    assert result.exit_code == 0, text
    run = only_run(tmp_path)
    for name in RUN_FILES:
        assert (run / name).stat().st_size > 0, name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["backend"] == "numpy" and metrics["precision"] == "float32 (numpy)"
    assert metrics["test_accuracy"] >= 0.93  # measured 95.6 % (seed 0), as the torch backend
    assert json.loads((run / "config.json").read_text())["backend"] == "numpy"
    assert "numpy" in text and "test accuracy" in text
    result, text = cli("evaluate", run)
    assert result.exit_code == 0, text
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-9)
    assert evaluation["backend"] == "numpy"


def test_grid_search_runs_with_the_numpy_backend(cli, tmp_path):
    # The numpy backend retraces the torch runs of test_vision_train's grid test: eta 0.1 gives 0.81-0.88,
    # eta 100 diverges or leaves chance accuracy.
    result, text = cli("digits", "--backend", "numpy", "--model", "notes-digits", "--epochs", "5",
                       "--grid-lr", "0.1", "100", "--grid-l2", "1e-4", "--out", tmp_path)
    assert result.exit_code == 0, text
    run = only_run(tmp_path)
    with open(run / "grid.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and float(rows[0]["test_accuracy"]) >= 0.75 and float(rows[1]["test_accuracy"]) < 0.3
    assert json.loads((run / "config.json").read_text())["backend"] == "numpy"
    assert (run / "grid_test.png").stat().st_size > 0


@pytest.mark.slow
def test_compare_trains_both_backends_and_writes_one_table(cli, tmp_path):
    result, text = cli("compare", "digits", "--model", "notes-digits", "--epochs", "3", "--seeds", "0", "1",
                       "--out", tmp_path)
    assert result.exit_code == 0, text
    run = only_run(tmp_path)
    report = json.loads((run / "compare.json").read_text())
    assert [(r["backend"], r["seed"]) for r in report["rows"]] == [("torch", 0), ("numpy", 0), ("torch", 1),
                                                                   ("numpy", 1)]
    torch_acc, numpy_acc = (report["backends"][b]["test_accuracy_mean"] for b in ("torch", "numpy"))
    assert abs(torch_acc - numpy_acc) < 0.005  # identical trajectories up to float32 round-off
    assert report["forward_agreement"] < FLOAT32_ROUND_OFF
    assert report["backends"]["numpy"]["train_seconds_ratio"] > 0
    assert (run / "compare.md").read_text().count("| numpy |") == 1
    assert len(list((run / "numpy").iterdir())) == 2 and len(list((run / "torch").iterdir())) == 2
    assert "numpy / torch" in text


@pytest.mark.parametrize("args,message", [
    (("digits", "--backend", "tensorflow"), "tensorflow"),
    (("cifar10", "--backend", "numpy"), "--backend torch"),
    (("digits", "--backend", "numpy", "--device", "cuda"), "CPU"),
    (("compare", "cifar10", "--model", "cifar-resnet"), "--backend torch"),
    (("compare", "digits", "--model", "notes-digits", "--seeds", "x"), "seeds"),
])
def test_bad_backend_input_is_one_line_and_exit_code_2(cli, args, message):
    result, text = cli(*args)
    assert result.exit_code == 2, text
    assert message in text and len(text.strip().splitlines()) == 1


def test_resume_refuses_a_new_backend(cli, tmp_path):
    result, text = cli("digits", "--model", "notes-digits", "--epochs", "1", "--out", tmp_path)
    assert result.exit_code == 0, text
    result, text = cli("digits", "--resume", only_run(tmp_path), "--backend", "numpy")
    assert result.exit_code == 2 and "--backend" in text
