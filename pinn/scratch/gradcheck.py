"""Checking a backward pass against central finite differences: the test every new layer or loss should pass.

For a layer y = f(x; W), take the scalar L = sum(R * y) with a fixed random R, so dL/dy = R. Then the
backward pass must give dL/dx and dL/dW equal to the central differences

    dL/da_i ~ (L(a + h e_i) - L(a - h e_i)) / (2 h),

whose error is O(h^2) from truncation plus O(machine eps * |L| / h) from round-off: about 1e-10 relative
in float64 with h = 1e-6 (Press et al., Numerical Recipes, section 5.7).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from pinn.scratch.layers import Layer


def numerical_gradient(loss: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``loss()`` with respect to every entry of ``array`` (changed in place and
    restored). ``array`` should be float64."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)  # a view: writing it perturbs ``array``
    out = grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = loss()
        flat[i] = saved - h
        down = loss()
        flat[i] = saved
        out[i] = (up - down) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / max(||a||, ||b||) (0 when both vanish)."""
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / scale) if scale > 0 else 0.0


def layer_gradient_errors(layer: Layer, x: np.ndarray, seed: int = 0, h: float = 1e-6,
                          before_forward: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Relative errors of the layer's backward pass (dL/dx and every dL/dparam) against finite differences.

    x: a float64 input the layer accepts; ``before_forward`` runs before every forward pass (to reset a
    random mask, for example). Returns {'x': err, '<param>': err, ...}.
    """
    x = np.array(x, dtype=np.float64)
    before_forward()
    y = layer.forward(x)
    weights = np.random.default_rng(seed).standard_normal(y.shape)  # R: L = sum(R * y)

    def loss() -> float:
        before_forward()
        return float(np.sum(weights * layer.forward(x)))

    before_forward()
    layer.forward(x)
    analytic_x = layer.backward(weights)
    analytic = {name: p.grad.copy() for name, p in layer.params.items()}
    errors = {"x": relative_error(analytic_x, numerical_gradient(loss, x, h))}
    for name, p in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, p.value, h))
    return errors
