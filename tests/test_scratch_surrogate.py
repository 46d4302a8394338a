"""The from-scratch recurrent surrogate: the same function as the torch RecurrentFlow for the same weights,
learning the Lorenz flow map on a reduced version of the notes' data, its checkpoint, and bad settings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from pinn.choices import DType, Optimizer, Schedule
from pinn.errors import PinnError
from pinn.surrogate.data import DataConfig, Normaliser, flow_pairs, make_dataset
from pinn.surrogate.evaluate import ReferenceSet, evaluate
from pinn.surrogate.models import ModelSpec, RecurrentFlow, SurrogateKind
from pinn.surrogate.scratch_rnn import (
    RecurrentCell,
    ScratchRecurrentFlow,
    checkpoint_state,
    load_checkpoint_state,
    train_scratch_recurrent,
)
from pinn.surrogate.train import TrainConfig
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants


@pytest.fixture(scope="module")
def lorenz():
    """The notes' recipe on fewer, shorter trajectories: 12 (train + validation) and 3 test, t in [0, 3]."""
    data = make_dataset(lorenz_rhs, 3, DataConfig(n_traj=12, n_test=3, t_final=3.0))
    return data, ReferenceSet.build(lorenz_rhs, data, 4.0)


@pytest.mark.parametrize("dim,depth,freqs", [(3, 1, ()), (2, 2, (1.3,))])
def test_numpy_lstm_flow_equals_torch_recurrent_flow_with_the_same_weights(dim, depth, freqs):
    rng = np.random.default_rng(0)
    norm = Normaliser(rng.normal(size=dim), rng.uniform(1, 2, dim), rng.normal(size=dim), rng.uniform(1, 2, dim))
    spec = ModelSpec(kind=SurrogateKind.lstm, dim=dim, width=8, depth=depth, window=4, dt=0.01, drive_freqs=freqs,
                     precision=DType.float64)
    torch.manual_seed(0)
    reference = RecurrentFlow(spec, norm).eval()
    mine = ScratchRecurrentFlow(RecurrentCell.lstm, spec, norm, rng)
    state = {}
    for k in range(depth):
        cell = {name: getattr(reference.cell, f"{name}_l{k}").detach().numpy() for name in
                ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        state.update({f"{k}.weight_ih": cell["weight_ih"], f"{k}.weight_hh": cell["weight_hh"],
                      f"{k}.bias": cell["bias_ih"] + cell["bias_hh"]})
    state.update({f"{depth + 1}.weight": reference.head.weight.detach().numpy(),
                  f"{depth + 1}.bias": reference.head.bias.detach().numpy()})
    mine.network.load_state_dict(state)
    history = torch.from_numpy(rng.normal(0, 5, (6, 4, dim)))
    t = torch.from_numpy(rng.uniform(0, 3, (6, 1)))
    with torch.no_grad():
        expected = reference.predict_next(history, t)
    got = mine.predict_next(history, t)
    assert got.dtype == torch.float64 and got.shape == (6, dim)
    error = float((got - expected).abs().max() / expected.abs().max())
    assert error < 1e-12  # measured 0 for both cases (float64)


@pytest.mark.parametrize("cell", list(RecurrentCell))
def test_short_training_learns_the_lorenz_flow_map(lorenz, cell):
    # Measured (seeds 0-2, 10 epochs, 0.1-1.5 s): median one-step error 1.2-1.5e-3 (LSTM) and 1.3-2.4e-3 (RNN)
    # against 8.0e-3 for persistence (u_{t+1} = u_t); the validation loss falls 29- to 100-fold.
    data, reference = lorenz
    spec = ModelSpec(kind=SurrogateKind.lstm, width=16, window=5, precision=DType.float64)
    config = TrainConfig(optimizer=Optimizer.adam, lr=1e-2, schedule=Schedule.cosine, epochs=10, batch_size=64,
                         stride=2, seed=1)
    rows = []
    result = train_scratch_recurrent(data, spec, config, cell, on_epoch=lambda e, row: rows.append(row))
    u, _, nxt = flow_pairs(data.subset("test"), data.t)
    persistence = np.median(np.linalg.norm(nxt - u, axis=1) / np.linalg.norm(nxt, axis=1))
    summary = evaluate(result.model, data, reference, 0.906).summary()
    assert summary["one_step_median"] < 0.4 * persistence
    assert result.best_val < rows[0]["val_loss"] / 20 and len(rows) == 10 and result.stopped == "epochs"
    assert summary["vpt_median"] > 0 and np.isfinite(summary["attractor_w1"])


def test_checkpoint_round_trip_reproduces_the_stepper(lorenz, tmp_path):
    data, _ = lorenz
    spec = ModelSpec(kind=SurrogateKind.lstm, width=8, window=3, precision=DType.float32)
    model = train_scratch_recurrent(data, spec, TrainConfig(optimizer=Optimizer.adam, epochs=2, batch_size=64),
                                    RecurrentCell.rnn).model
    torch.save(checkpoint_state(model), tmp_path / "model.pt")
    again = load_checkpoint_state(torch.load(tmp_path / "model.pt", weights_only=True))
    history = torch.from_numpy(data.subset("test")[:, :3])
    t = torch.full((history.shape[0], 1), 0.02, dtype=torch.float64)
    assert torch.equal(again.predict_next(history, t), model.predict_next(history, t))
    assert again.cell is RecurrentCell.rnn and again.history_length == 3 and again.dtype == np.float32


def test_settings_the_numpy_surrogate_cannot_use_are_user_errors(lorenz):
    data, _ = lorenz
    spec = ModelSpec(kind=SurrogateKind.lstm, width=8, window=3)
    with pytest.raises(PinnError, match="torch backend"):
        train_scratch_recurrent(data, spec, TrainConfig(optimizer=Optimizer.lbfgs, epochs=1))
    with pytest.raises(PinnError, match="components"):
        train_scratch_recurrent(data, dataclasses.replace(spec, dim=2), TrainConfig(optimizer=Optimizer.adam, epochs=1))
    with pytest.raises(PinnError, match="not a from-scratch"):
        load_checkpoint_state({"kind": "sindy"})
