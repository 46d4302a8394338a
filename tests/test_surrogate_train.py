"""Training surrogates: short runs reach measured one-step errors; recurrent nets, SINDy, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn.choices import Activation, Optimizer
from pinn.errors import PinnError
from pinn.surrogate.data import DataConfig, Normaliser, TrajectoryData, make_dataset
from pinn.surrogate.evaluate import one_step_errors, rollout
from pinn.surrogate.models import DType, FlowForm, ModelSpec, SurrogateKind, build_model, model_state, spec_from_json
from pinn.surrogate.sindy import SindyConfig, fit_sindy
from pinn.surrogate.train import TrainConfig, evaluate_loss, train_surrogate, training_tensors
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants


@pytest.fixture(scope="module")
def data() -> TrajectoryData:
    return make_dataset(lorenz_rhs, 3, DataConfig(n_traj=8, n_test=2, t_final=2.0, substeps=5, seed=1))


@pytest.fixture(autouse=True)
def seed() -> None:
    torch.manual_seed(0)


def test_short_residual_mlp_training_reaches_measured_one_step_error(data):
    spec = ModelSpec(width=16, depth=2, dt=0.01)
    config = TrainConfig(optimizer=Optimizer.adam_lbfgs, epochs=30, stride=2, lbfgs_iters=20)
    result = train_surrogate(data, spec, config)
    error = np.median(one_step_errors(result.model, data.subset("test"), data.t))
    # measured 1.4e-4 (30 epochs: 9 full-batch Adam steps, then 21 x 20 L-BFGS iterations); margin x3.5
    assert error < 5e-4
    assert result.best_val <= min(h["val_loss"] for h in result.history)
    assert result.history[-1]["train_loss"] < 1e-2 * result.history[0]["train_loss"]


def test_direct_form_is_far_less_accurate_than_residual_at_equal_budget(data):
    config = TrainConfig(optimizer=Optimizer.adam, lr=3e-3, epochs=60, stride=4)
    errors = {}
    for form in (FlowForm.direct, FlowForm.residual):
        model = train_surrogate(data, ModelSpec(form=form, width=16, depth=2), config).model
        errors[form] = np.median(one_step_errors(model, data.subset("test"), data.t))
    # measured: direct 8.3e-2, residual 1.8e-2 after 60 full-batch Adam steps (ratio 0.21)
    assert errors[FlowForm.residual] < 0.5 * errors[FlowForm.direct]


@pytest.mark.parametrize("kind", [SurrogateKind.lstm, SurrogateKind.gru, SurrogateKind.rnn])
def test_recurrent_models_train_and_roll_out(data, kind):
    spec = ModelSpec(kind=kind, width=16, depth=1, window=4, precision=DType.float32)
    config = TrainConfig(optimizer=Optimizer.adam, lr=1e-2, epochs=6, batch_size=128, stride=3)
    result = train_surrogate(data, spec, config)
    # measured: the validation loss falls to 0.41 (LSTM) and 0.45 (GRU) of its first-epoch value
    assert result.history[-1]["val_loss"] < 0.7 * result.history[0]["val_loss"]
    test = data.subset("test")
    traj = rollout(result.model, test[:, :4], float(data.t[3]), 10)
    assert traj.shape == (2, 11, 3) and np.all(np.isfinite(traj))


def test_early_stopping_weight_decay_and_dropout_paths(data):
    spec = ModelSpec(width=8, depth=1, dropout=0.1)
    config = TrainConfig(optimizer=Optimizer.sgd_momentum, lr=1e-1, epochs=50, batch_size=64, stride=4,
                         weight_decay=1e-3, patience=2)
    result = train_surrogate(data, spec, config)
    # measured: the best validation loss at epoch 3, then 2 epochs without a better one
    assert result.stopped == "early-stopping" and len(result.history) == result.best_epoch + config.patience
    assert result.best_val == min(h["val_loss"] for h in result.history) < result.history[-1]["val_loss"]
    assert not result.model.training
    restored = evaluate_loss(result.model, training_tensors(data, spec, "val", config.val_stride))
    assert restored == pytest.approx(result.best_val, rel=1e-12)  # the best weights, not the last ones


def test_checkpoint_round_trip_gives_identical_predictions(data):
    spec = ModelSpec(width=8, depth=2, activation=Activation.silu)
    model = build_model(spec, data.normaliser)
    state = model_state(model, spec)
    zeros = np.zeros(3)
    again = build_model(spec_from_json(state["spec"]), Normaliser(zeros, zeros + 1, zeros, zeros + 1))
    again.load_state_dict(state["state"])
    u = torch.tensor(data.subset("test")[:, 5], dtype=torch.float64)[:, None, :]
    t = torch.zeros(2, 1, dtype=torch.float64)
    torch.testing.assert_close(model.predict_next(u, t), again.predict_next(u, t))


def test_model_rejects_data_of_another_size(data):
    with pytest.raises(PinnError):
        train_surrogate(data, ModelSpec(dim=2), TrainConfig(epochs=1))
    with pytest.raises(PinnError):
        ModelSpec(width=0)


def test_sindy_recovers_lorenz_coefficients(data):
    fit = fit_sindy(data, SindyConfig(threshold=0.05))
    names = ["1", "x", "y", "z", "xx", "xy", "xz", "yy", "yz", "zz"]
    coef = fit.model.coefficients.numpy()
    expected = np.zeros((3, 10))
    expected[0, [1, 2]] = (-10.0, 10.0)
    expected[1, [1, 2, 6]] = (28.0, -1.0, -1.0)
    expected[2, [3, 5]] = (-8.0 / 3.0, 1.0)
    assert coef.shape == expected.shape, names
    assert fit.model.powers.shape == (10, 3)
    # measured max deviation 2.7e-3 (28 -> 27.9973, fourth-order finite differences at dt = 0.01); margin x7
    np.testing.assert_allclose(coef, expected, atol=2e-2)
    error = np.median(one_step_errors(fit.model, data.subset("test"), data.t))
    assert error < 1e-5  # measured 2.2e-6
