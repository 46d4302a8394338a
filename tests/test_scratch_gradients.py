"""Every pinn.scratch layer, loss and optimizer against two independent references: central finite
differences in float64, and PyTorch (autograd and torch.optim) holding the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pinn import scratch
from pinn.scratch.gradcheck import layer_gradient_errors, numerical_gradient, relative_error

FD_TOLERANCE = 1e-7  # measured: at most 2.5e-9 over these cases (h = 1e-6, float64)
TORCH_TOLERANCE = 1e-10  # measured: at most 2.6e-16 (both compute in float64)


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _dropout() -> tuple[scratch.Layer, callable]:
    layer = scratch.Dropout(0.3)

    def same_mask() -> None:
        layer.rng = np.random.default_rng(3)

    return layer, same_mask


# (name, layer factory, input shape, torch twin factory or None); every layer in float64
LAYERS = [
    ("dense", lambda: scratch.Dense(5, 3, rng=_rng()), (4, 5), lambda: nn.Linear(5, 3)),
    ("conv", lambda: scratch.Conv2D(2, 3, 3, rng=_rng()), (2, 2, 6, 5), lambda: nn.Conv2d(2, 3, 3)),
    ("conv-stride-pad", lambda: scratch.Conv2D(2, 4, 3, stride=2, padding=1, rng=_rng()), (2, 2, 7, 6),
     lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1)),
    ("conv-no-bias", lambda: scratch.Conv2D(3, 2, 2, bias=False, rng=_rng()), (2, 3, 5, 5),
     lambda: nn.Conv2d(3, 2, 2, bias=False)),
    ("maxpool", lambda: scratch.MaxPool2D(2), (2, 3, 5, 4), lambda: nn.MaxPool2d(2)),
    ("maxpool-3", lambda: scratch.MaxPool2D(3), (2, 2, 7, 6), lambda: nn.MaxPool2d(3)),
    ("batchnorm", lambda: scratch.BatchNorm2D(3), (4, 3, 3, 2), lambda: nn.BatchNorm2d(3)),
    ("flatten", lambda: scratch.Flatten(), (2, 3, 2, 2), lambda: nn.Flatten()),
    ("relu", lambda: scratch.ReLU(), (3, 7), lambda: nn.ReLU()),
    ("tanh", lambda: scratch.Tanh(), (3, 7), lambda: nn.Tanh()),
    ("sigmoid", lambda: scratch.Sigmoid(), (3, 7), lambda: nn.Sigmoid()),
    ("softmax", lambda: scratch.Softmax(), (3, 7), lambda: nn.Softmax(dim=-1)),
    ("standardize", lambda: scratch.Standardize([0.5, -1.0], [2.0, 0.5]), (2, 2, 3, 3), None),
    ("rnn", lambda: scratch.RNN(3, 4, rng=_rng()), (2, 5, 3), lambda: nn.RNN(3, 4, batch_first=True)),
    ("lstm", lambda: scratch.LSTM(3, 4, rng=_rng()), (2, 5, 3), lambda: nn.LSTM(3, 4, batch_first=True)),
    ("last-step", lambda: scratch.LastStep(), (2, 5, 3), None),
]


@pytest.mark.parametrize("name,make,shape,twin", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_backward_matches_central_differences(name, make, shape, twin):
    layer = make()
    errors = layer_gradient_errors(layer, np.random.default_rng(1).standard_normal(shape))
    assert max(errors.values()) < FD_TOLERANCE, errors
    assert set(errors) == {"x", *layer.params}


def test_dropout_backward_matches_central_differences_for_a_fixed_mask():
    layer, same_mask = _dropout()
    x = np.random.default_rng(1).standard_normal((4, 6))
    errors = layer_gradient_errors(layer, x, before_forward=same_mask)
    assert errors["x"] < FD_TOLERANCE
    same_mask()
    kept = layer.forward(x) != 0
    assert 0.4 < kept.mean() < 0.95  # about 70 % of 24 entries kept


def test_dropout_is_the_identity_in_evaluation_mode():
    layer, _ = _dropout()
    layer.training = False
    x = np.random.default_rng(2).standard_normal((3, 5))
    assert np.array_equal(layer.forward(x), x)
    assert np.array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def _copy_into_torch(layer: scratch.Layer, module: nn.Module) -> None:
    """Copy the scratch layer's parameters into its torch twin (float64)."""
    module.double()
    with torch.no_grad():
        if isinstance(module, (nn.RNN, nn.LSTM)):
            module.weight_ih_l0.copy_(torch.from_numpy(layer.params["weight_ih"].value))
            module.weight_hh_l0.copy_(torch.from_numpy(layer.params["weight_hh"].value))
            module.bias_ih_l0.copy_(torch.from_numpy(layer.params["bias"].value))
            module.bias_hh_l0.zero_()
            return
        for name, p in layer.params.items():
            getattr(module, name).copy_(torch.from_numpy(p.value))


def _torch_output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = module(x)
    return out[0] if isinstance(module, (nn.RNN, nn.LSTM)) else out


@pytest.mark.parametrize("name,make,shape,twin", [c for c in LAYERS if c[3] is not None],
                         ids=[c[0] for c in LAYERS if c[3] is not None])
def test_layer_matches_pytorch_autograd_with_the_same_weights(name, make, shape, twin):
    layer, module = make(), twin()
    _copy_into_torch(layer, module)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    y = layer.forward(x)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(r)

    xt = torch.from_numpy(x).requires_grad_(True)
    yt = _torch_output(module, xt)
    (yt * torch.from_numpy(r)).sum().backward()
    assert relative_error(y, yt.detach().numpy()) < TORCH_TOLERANCE
    assert relative_error(dx, xt.grad.numpy()) < TORCH_TOLERANCE
    for pname, p in layer.params.items():
        if isinstance(module, (nn.RNN, nn.LSTM)):
            torch_grad = {"weight_ih": module.weight_ih_l0.grad, "weight_hh": module.weight_hh_l0.grad,
                          "bias": module.bias_ih_l0.grad}[pname]
        else:
            torch_grad = getattr(module, pname).grad
        assert relative_error(p.grad, torch_grad.numpy()) < TORCH_TOLERANCE, pname
    if isinstance(module, nn.BatchNorm2d):  # running statistics follow PyTorch's update
        assert relative_error(layer.buffers["running_var"], module.running_var.numpy()) < TORCH_TOLERANCE
        assert relative_error(layer.buffers["running_mean"], module.running_mean.numpy()) < TORCH_TOLERANCE


def test_batchnorm_in_evaluation_mode_uses_running_statistics_like_pytorch():
    layer, module = scratch.BatchNorm2D(3), nn.BatchNorm2d(3)
    _copy_into_torch(layer, module)
    x = np.random.default_rng(4).standard_normal((5, 3, 4, 4)) * 2 + 1
    for _ in range(3):  # move the running averages away from (0, 1)
        layer.forward(x)
        module(torch.from_numpy(x))
    layer.training = False
    module.eval()
    assert relative_error(layer.forward(x), module(torch.from_numpy(x)).detach().numpy()) < TORCH_TOLERANCE
    assert layer_gradient_errors(layer, x)["x"] < FD_TOLERANCE


LOSSES = [
    ("cross-entropy", lambda: scratch.SoftmaxCrossEntropy(), lambda z, y: F.cross_entropy(z, y)),
    ("cross-entropy-smoothed", lambda: scratch.SoftmaxCrossEntropy(0.1),
     lambda z, y: F.cross_entropy(z, y, label_smoothing=0.1)),
]


@pytest.mark.parametrize("name,make,reference", LOSSES, ids=[c[0] for c in LOSSES])
def test_cross_entropy_and_its_gradient_match_pytorch_and_finite_differences(name, make, reference):
    rng = np.random.default_rng(5)
    logits, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    loss = make()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    zt = torch.from_numpy(logits).requires_grad_(True)
    ref = reference(zt, torch.from_numpy(labels))
    ref.backward()
    assert abs(value - ref.item()) < TORCH_TOLERANCE * abs(ref.item())
    assert relative_error(grad, zt.grad.numpy()) < TORCH_TOLERANCE
    numeric = numerical_gradient(lambda: make().forward(logits, labels), logits)
    assert relative_error(grad, numeric) < FD_TOLERANCE


def test_mean_squared_error_and_its_gradient_match_pytorch_and_finite_differences():
    rng = np.random.default_rng(6)
    y, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = scratch.MeanSquaredError()
    value = loss.forward(y, t)
    grad = loss.backward()
    yt = torch.from_numpy(y).requires_grad_(True)
    ref = F.mse_loss(yt, torch.from_numpy(t))
    ref.backward()
    assert abs(value - ref.item()) < TORCH_TOLERANCE * ref.item()
    assert relative_error(grad, yt.grad.numpy()) < TORCH_TOLERANCE
    assert relative_error(grad, numerical_gradient(lambda: scratch.MeanSquaredError().forward(y, t), y)) < FD_TOLERANCE


def test_l2_penalty_acts_on_weights_only_with_gradient_two_lambda_w():
    net = scratch.Sequential([scratch.Dense(4, 3, rng=_rng()), scratch.Tanh(), scratch.Dense(3, 2, rng=_rng())])
    penalty = scratch.L2Penalty(0.3)
    weights = [p for p in net.parameters() if p.decay]
    assert len(weights) == 2 and all(p.value.ndim == 2 for p in weights)
    value = penalty.value(net.parameters())
    assert value == pytest.approx(0.3 * sum(np.sum(p.value ** 2) for p in weights), rel=1e-14)
    for p in net.parameters():
        p.grad = np.zeros_like(p.value)
    penalty.add_gradient(net.parameters())
    w = weights[0]
    assert relative_error(w.grad, numerical_gradient(lambda: penalty.value(net.parameters()), w.value)) < FD_TOLERANCE
    assert all(np.all(p.grad == 0) for p in net.parameters() if not p.decay)


def test_network_gradient_with_l2_matches_pytorch():
    """Forward, loss, backward and L2 through a small CNN, against the same network in PyTorch."""
    rng = np.random.default_rng(8)
    net = scratch.Sequential([scratch.Conv2D(1, 4, 3, rng=rng), scratch.ReLU(), scratch.MaxPool2D(2),
                              scratch.Flatten(), scratch.Dense(4 * 3 * 3, 5, rng=rng), scratch.Tanh(),
                              scratch.Dense(5, 3, rng=rng)])
    twin = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5), nn.Tanh(),
                         nn.Linear(5, 3)).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    x, y = rng.standard_normal((6, 1, 8, 8)), rng.integers(0, 3, 6)
    loss, penalty = scratch.SoftmaxCrossEntropy(), scratch.L2Penalty(0.01)
    loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    penalty.add_gradient(net.parameters())
    objective = F.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
    objective = objective + 0.01 * sum(m.weight.square().sum() for m in twin if isinstance(m, (nn.Conv2d, nn.Linear)))
    objective.backward()
    for (name, t), p in zip(twin.named_parameters(), net.parameters()):
        assert relative_error(p.grad, t.grad.numpy()) < TORCH_TOLERANCE, name


OPTIMIZERS = [
    ("sgd", lambda p: scratch.SGD(p, 0.1), lambda p: torch.optim.SGD(p, 0.1)),
    ("momentum", lambda p: scratch.SGD(p, 0.1, momentum=0.9), lambda p: torch.optim.SGD(p, 0.1, momentum=0.9)),
    ("nesterov", lambda p: scratch.SGD(p, 0.1, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, nesterov=True)),
    ("adam", lambda p: scratch.Adam(p, 0.01), lambda p: torch.optim.Adam(p, 0.01)),
]


@pytest.mark.parametrize("name,make,reference", OPTIMIZERS, ids=[c[0] for c in OPTIMIZERS])
def test_optimizer_steps_match_torch_optim(name, make, reference):
    rng = np.random.default_rng(9)
    start = rng.standard_normal((3, 4))
    mine = scratch.Parameter(start.copy())
    theirs = torch.from_numpy(start.copy()).requires_grad_(True)
    opt, ref = make([mine]), reference([theirs])
    for _ in range(20):
        g = rng.standard_normal(start.shape)
        mine.grad = g
        theirs.grad = torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    assert relative_error(mine.value, theirs.detach().numpy()) < 1e-13
    assert relative_error(mine.value, start) > 0.01  # the steps did move the parameters


def test_optimizer_state_round_trips():
    params = [scratch.Parameter(np.ones(3))]
    opt = scratch.Adam(params, 0.1)
    params[0].grad = np.array([1.0, -2.0, 3.0])
    opt.step()
    again = scratch.Adam([scratch.Parameter(params[0].value.copy())], 0.1)
    again.load_state_dict(opt.state_dict())
    again.params[0].grad = params[0].grad
    opt.step()
    again.step()
    assert np.array_equal(again.params[0].value, params[0].value)
