"""Identification by gradient training: a network u(t) and the unknown constants trained together by Adam.

The classic physics-informed inverse problem (Raissi, Perdikaris & Karniadakis 2019): minimise

    L = mean_i ((u_c(t_i) - y_ic) / s_c)^2 + w^2 mean_q ((du_l/dt - f_l(t_q, u; theta)) tau / s_l)^2

over the network weights and theta, with s_c the RMS size of component c (as in the least-squares fit), tau
the problem's window length (its fast time scale) and du/dt by autograd at collocation points t_q spread
evenly over [t0, t1]. Each constant is trained as theta = centre + half_width * p with p of order one, so
Adam's step (about lr in p) is the same fraction of every plausible range. Slower and less precise than
the Gauss-Newton fit; no standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import torch

from pinn.choices import Activation, Optimizer
from pinn.inverse.config import GradientFitConfig
from pinn.inverse.observations import Observations
from pinn.networks import MLP
from pinn.optim import Phases, minimise
from pinn.spec import ODESpec
from pinn.trial import time_derivative


@dataclass
class GradientFit:
    """Result of :func:`fit_gradient`: estimates theta (p,), the trained network (outputs in units of s),
    the scales s (d,) and offsets (d,), the loss/constant history and the final loss terms."""

    theta: np.ndarray
    net: MLP
    scale: torch.Tensor
    offset: torch.Tensor
    history: list[dict]
    data_loss: float
    residual_loss: float

    def states(self, t: np.ndarray, derivative: bool = False) -> np.ndarray:
        """u(t) (or du/dt) at times t (n,): (n, d)."""
        tt = torch.tensor(np.asarray(t, dtype=float).reshape(-1, 1), requires_grad=derivative)
        u = self.offset + self.scale * self.net(tt)
        if derivative:
            u = time_derivative(u, tt, create_graph=False)
        return u.detach().numpy()


def fit_gradient(model: ODESpec, obs: Observations, unknowns: Sequence[str], known: Mapping[str, float],
                 guesses: Mapping[str, float], cfg: GradientFitConfig = GradientFitConfig(),
                 t0: Optional[float] = None, t1: Optional[float] = None,
                 progress: Optional[Callable[[int, int, float], None]] = None) -> GradientFit:
    """Train the network and the constants by Adam (module docstring); ``progress(epoch, epochs, loss)``."""
    t0 = float(obs.t[0] if t0 is None else t0)
    t1 = float(obs.t[-1] if t1 is None else t1)
    torch.manual_seed(cfg.seed)
    d = model.dim
    net = MLP(d, cfg.width, cfg.depth, Activation.tanh, t0, t1, dtype=torch.float64)
    observed = obs.scale()
    scale = torch.full((d,), float(np.exp(np.mean(np.log(observed)))), dtype=torch.float64)
    scale[list(obs.index)] = torch.from_numpy(observed)
    offset = torch.zeros(d, dtype=torch.float64)
    offset[list(obs.index)] = torch.from_numpy(np.nanmean(obs.values, axis=0))
    centre = torch.tensor([np.mean(model.ranges[u]) for u in unknowns], dtype=torch.float64)
    half = torch.tensor([np.diff(model.ranges[u])[0] / 2 for u in unknowns], dtype=torch.float64)
    start = torch.tensor([float(guesses.get(u, np.mean(model.ranges[u]))) for u in unknowns], dtype=torch.float64)
    p = torch.nn.Parameter((start - centre) / half)
    known = {k: float(v) for k, v in known.items()}
    rows, cols = np.nonzero(np.isfinite(obs.values))
    t_data = torch.tensor(obs.t[rows], dtype=torch.float64).reshape(-1, 1)
    comp = torch.tensor([obs.index[c] for c in cols])
    y = torch.tensor(obs.values[rows, cols], dtype=torch.float64)
    t_col = torch.linspace(t0, t1, cfg.points, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    tau = model.identify_window
    history: list[dict] = []
    def losses() -> tuple[torch.Tensor, torch.Tensor]:
        theta = centre + half * p
        u_data = offset + scale * net(t_data)
        data = (((u_data[torch.arange(y.numel()), comp] - y) / scale[comp]) ** 2).mean()
        u = offset + scale * net(t_col)
        du = time_derivative(u, t_col)
        f = model.parametric_rhs(t_col, u, model.constants(unknowns, theta, known))
        residual = (((du - f) * tau / scale) ** 2).mean()
        return data, residual

    def total_loss(step: int = 0) -> torch.Tensor:
        data, residual = losses()
        return data + cfg.weight ** 2 * residual

    def log(epoch: int, total: int, value: float, lr: float, phase: str) -> None:
        data, residual = (float(v.detach()) for v in losses())
        history.append({"iteration": epoch, "loss": value, "data": data, "residual": residual,
                        "theta": (centre + half * p).detach().tolist()})
        if progress is not None:
            progress(epoch, total, value)

    minimise(list(net.parameters()) + [p], Phases(Optimizer.adam, cfg.lr, cfg.epochs), total_loss, total_loss,
             lambda: {}, log, cfg.log_every)
    data, residual = losses()
    return GradientFit(theta=(centre + half * p).detach().numpy().copy(), net=net, scale=scale, offset=offset,
                       history=history, data_loss=float(data.detach()), residual_loss=float(residual.detach()))
