"""The classic gradient-trained PINN for a :class:`~pinn.pde.problem.PDEProblem` (Raissi et al. 2019).

One fully connected network N(z) of the normalised coordinates is trained by a first-order optimizer
(Adam by default) and then L-BFGS (:mod:`pinn.optim`) on

    loss = mean_i R(x_i, s_i)^2 + w_ic * (initial-condition misfit) + w_bc * (boundary misfit),

R the PDE residual at Sobol collocation points of the space-time box (or the rectangle), derivatives by
autograd. Inputs are mapped onto [-1, 1] per coordinate; along a periodic x they are replaced by the
harmonics cos(k w (x - a)), sin(k w (x - a)), w = 2 pi / L, k = 1..``harmonics`` (Dong & Ni 2021), so u is
periodic to round-off by construction.

With ``constraints = exact`` the simple conditions are built into the trial solution instead of penalised
(Lagaris et al. 1998): the initial state by u = u0(x) + tau N, tau = (t - t0) / (t1 - t0), unless the
problem is periodic and u0 is not (value or slope differ at the ends); each homogeneous Dirichlet side (u = 0,
where the initial data vanish there) by a factor of the distance to it; periodicity by the embedding.
Everything else (nonzero or time-dependent Dirichlet values, Neumann sides, the initial velocity of an
equation of second order in time) is penalised. The velocity is not built in because the trial
u0 + (t - t0) v0 + tau^2 N forces N(x, 0) = u_tt(x, 0) (t1 - t0)^2 / 2, which for the wave benchmark is
c^2 u0'' / 2 ~ 160: far out of a freshly initialised network's range (measured on the wave benchmark:
relative L2 1.0 with that trial, 0.59 with u0 built in and the velocity penalised, 0.36 with every
condition penalised). With ``constraints = penalty`` every condition is a penalty, as in
Raissi et al.

This is the baseline the least-squares solver is compared with: with about 5 minutes of training on one
CPU core it reaches a relative L2 error of 5e-2 on Burgers and fails on the wave benchmark
(benchmarks/pde_gradient.py), where the least-squares solver reaches 1e-7 and below in seconds.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch
from scipy.stats import qmc
from torch import nn

from pinn.choices import InitialCondition, Optimizer
from pinn.errors import PinnError
from pinn.networks import MLP
from pinn.optim import Phases, minimise
from pinn.pde.config import PDEGradientConfig
from pinn.pde.problem import Derivatives, Dirichlet, Field, Neumann, PDEProblem, Side, boundary_value
from pinn.train import TrainState

Order = tuple[int, int]
"""(derivatives along x, derivatives along the second coordinate t or y)."""





def _vanishes(fn: Callable[[torch.Tensor], torch.Tensor], x: float) -> bool:
    value = fn(torch.tensor([x], dtype=torch.float64))
    return bool(abs(float(torch.as_tensor(value).reshape(-1)[0])) < 1e-10)


def _periodic_initial_data(problem: PDEProblem) -> bool:
    """Whether u0 (and v0) and their x-derivatives agree at both ends, so that u0 + tau N stays periodic."""
    ends = torch.tensor([problem.x_interval.a, problem.x_interval.b], dtype=torch.float64, requires_grad=True)
    for fn in [problem.initial] + ([problem.initial_velocity] if problem.time_order == 2 else []):
        value = fn(ends)
        (slope,) = torch.autograd.grad(value.sum(), ends, allow_unused=True)
        slope = torch.zeros(2, dtype=torch.float64) if slope is None else slope
        value = value.detach()
        if abs(float(value[0] - value[1])) > 1e-10 or abs(float(slope[0] - slope[1])) > 1e-10:
            return False
    return True


def _homogeneous(bc) -> bool:
    return isinstance(bc, Dirichlet) and not callable(bc.value) and float(bc.value) == 0.0


class PDENet(nn.Module):
    """u(x, s) = trial solution built from an MLP N of the normalised (or embedded) coordinates.

    ``hard_sides``: sides whose homogeneous Dirichlet condition is built in; ``hard_initial``: whether the
    initial state (and velocity) is built in; periodic x is embedded when ``embed`` is true.
    """

    def __init__(self, problem: PDEProblem, cfg: PDEGradientConfig, hard_initial: bool,
                 hard_sides: tuple[Side, ...], embed: bool, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.problem = problem
        self.hard_initial = hard_initial
        self.hard_sides = hard_sides
        self.embed = embed
        self.harmonics = cfg.harmonics
        ix, js = problem.x_interval, problem.second_interval
        self.ax, self.lx, self.as_, self.ls = ix.a, ix.length, js.a, js.length
        n_in = (2 * cfg.harmonics if embed else 1) + 1
        self.net = MLP(1, cfg.width, cfg.depth, cfg.activation, -1.0, 1.0, dtype=dtype, n_in=n_in)

    def inputs(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Network inputs (n, n_in) for points x, s (n,)."""
        sn = 2.0 * (s - self.as_) / self.ls - 1.0
        if self.embed:
            k = torch.arange(1, self.harmonics + 1, dtype=x.dtype)
            phase = (2.0 * math.pi / self.lx) * (x - self.ax)[:, None] * k[None, :]
            return torch.cat((torch.cos(phase), torch.sin(phase), sn[:, None]), dim=1)
        return torch.stack((2.0 * (x - self.ax) / self.lx - 1.0, sn), dim=1)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """u at points x, s (n,) -> (n,)."""
        n = self.net(self.inputs(x, s))[:, 0]
        for side in self.hard_sides:
            if side is Side.left:
                n = n * (x - self.ax) / self.lx
            elif side is Side.right:
                n = n * (self.ax + self.lx - x) / self.lx
            elif side is Side.bottom:
                n = n * (s - self.as_) / self.ls
            else:
                n = n * (self.as_ + self.ls - s) / self.ls
        if not self.hard_initial:
            return n
        return self.problem.initial(x) + (s - self.as_) / self.ls * n


def build_network(problem: PDEProblem, cfg: PDEGradientConfig, dtype: torch.dtype = torch.float64) -> PDENet:
    """The (seeded) network with the constraints that ``cfg.constraints`` and the problem allow built in."""
    torch.manual_seed(cfg.seed)
    exact = InitialCondition(cfg.constraints) is InitialCondition.exact
    # a non-periodic u0 of a periodic problem (Allen-Cahn's x^2 cos(pi x) has a slope jump of 4 across the
    # seam) would keep its kink in u0 + tau N for all t: its initial condition is penalised instead
    hard_initial = exact and not problem.steady and (not problem.periodic("x") or _periodic_initial_data(problem))
    sides = [Side.left, Side.right] + ([Side.bottom, Side.top] if problem.steady else [])
    hard: list[Side] = []
    if exact:
        for side in sides:
            bc = problem.condition_on(side)
            if not _homogeneous(bc):
                continue
            if not problem.steady:
                end = problem.x_interval.a if side is Side.left else problem.x_interval.b
                data = [problem.initial] + ([problem.initial_velocity] if problem.time_order == 2 else [])
                if not all(_vanishes(f, end) for f in data):
                    continue  # incompatible initial data: the condition stays a penalty
            hard.append(side)
    embed = exact and problem.periodic("x")
    return PDENet(problem, cfg, hard_initial, tuple(hard), embed, dtype)


def _grad(f: torch.Tensor, v: torch.Tensor, create_graph: bool) -> torch.Tensor:
    # retain_graph: several second derivatives are taken from one first-derivative graph
    (g,) = torch.autograd.grad(f.sum(), v, create_graph=create_graph, retain_graph=True, allow_unused=True)
    return torch.zeros_like(v) if g is None else g


def field_values(model: PDENet, x: torch.Tensor, s: torch.Tensor, orders: tuple[Order, ...],
                 create_graph: bool = True) -> dict[Order, torch.Tensor]:
    """u and the derivatives ``orders`` at points x, s (n,) by autograd: {(p, q): (n,)}."""
    x = x.detach().clone().requires_grad_(True)
    s = s.detach().clone().requires_grad_(True)
    u = model(x, s)
    out: dict[Order, torch.Tensor] = {(0, 0): u}
    need_x = any(p >= 1 for p, _ in orders)
    need_s = any(q >= 1 for _, q in orders)
    keep = True  # intermediate derivatives are differentiated again
    ux = _grad(u, x, keep) if need_x else None
    us = _grad(u, s, keep) if need_s else None
    for p, q in orders:
        if (p, q) == (1, 0):
            out[(1, 0)] = ux
        elif (p, q) == (0, 1):
            out[(0, 1)] = us
        elif (p, q) == (2, 0):
            out[(2, 0)] = _grad(ux, x, create_graph)
        elif (p, q) == (0, 2):
            out[(0, 2)] = _grad(us, s, create_graph)
        elif (p, q) == (1, 1):
            out[(1, 1)] = _grad(ux, s, create_graph)
        elif (p, q) != (0, 0):
            raise PinnError(f"derivative order {(p, q)} is not supported (at most second order)")
    if not create_graph:
        out = {o: v.detach() for o, v in out.items()}
    return out


_FIELD_ORDER = {Field.u: (0, 0), Field.u_x: (1, 0), Field.u_xx: (2, 0), Field.u_t: (0, 1), Field.u_tt: (0, 2),
                Field.u_y: (0, 1), Field.u_yy: (0, 2), Field.u_xy: (1, 1)}


def pde_residual(problem: PDEProblem, model: PDENet, x: torch.Tensor, s: torch.Tensor,
                 used: tuple[Field, ...], create_graph: bool = True) -> torch.Tensor:
    """R at points x, s (n,) -> (n,)."""
    vals = field_values(model, x, s, tuple({_FIELD_ORDER[f] for f in used}), create_graph)
    coords = {"x": x, ("y" if problem.steady else "t"): s}
    fields = {f.value: vals[_FIELD_ORDER[f]] for f in used}
    fields["u"] = vals[(0, 0)]
    return problem.evaluate_residual(Derivatives(**coords, **fields))


@dataclass
class _PointSets:
    """Interior points (x, s) and, per penalised side / the initial line, its points."""

    x: torch.Tensor
    s: torch.Tensor
    sides: dict[Side, tuple[torch.Tensor, torch.Tensor]]
    periodic_x: Optional[torch.Tensor]  # s values where u, u_x at x = a and x = b are matched
    periodic_y: Optional[torch.Tensor]  # x values where u, u_y at y = c and y = d are matched
    initial: Optional[torch.Tensor]


def _sobol(n: int, dim: int, seed: int) -> np.ndarray:
    with warnings.catch_warnings():  # scipy warns when n is not a power of two; balance is not needed here
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=dim, scramble=True, seed=seed).random(n)


def _points(problem: PDEProblem, model: PDENet, cfg: PDEGradientConfig, seed: int,
            dtype: torch.dtype) -> _PointSets:
    ix, js = problem.x_interval, problem.second_interval
    box = _sobol(cfg.points, 2, seed)
    x = torch.tensor(ix.a + ix.length * box[:, 0], dtype=dtype)
    s = torch.tensor(js.a + js.length * box[:, 1], dtype=dtype)
    line = _sobol(cfg.boundary_points, 1, seed + 1)[:, 0]
    along_s = torch.tensor(js.a + js.length * line, dtype=dtype)
    along_x = torch.tensor(ix.a + ix.length * line, dtype=dtype)
    sides: dict[Side, tuple[torch.Tensor, torch.Tensor]] = {}
    for bc in problem.boundary:
        if isinstance(bc, (Dirichlet, Neumann)) and bc.side not in model.hard_sides:
            if bc.side is Side.left:
                sides[bc.side] = (torch.full_like(along_s, ix.a), along_s)
            elif bc.side is Side.right:
                sides[bc.side] = (torch.full_like(along_s, ix.b), along_s)
            elif bc.side is Side.bottom:
                sides[bc.side] = (along_x, torch.full_like(along_x, js.a))
            else:
                sides[bc.side] = (along_x, torch.full_like(along_x, js.b))
    periodic_x = along_s if problem.periodic("x") and not model.embed else None
    periodic_y = along_x if problem.periodic("y") else None
    initial = None
    if not problem.steady and (not model.hard_initial or problem.time_order == 2):
        initial = torch.tensor(ix.a + ix.length * _sobol(cfg.initial_points, 1, seed + 2)[:, 0], dtype=dtype)
    return _PointSets(x, s, sides, periodic_x, periodic_y, initial)


def _condition_loss(problem: PDEProblem, model: PDENet, pts: _PointSets, cfg: PDEGradientConfig) -> torch.Tensor:
    """w_ic * initial misfit + w_bc * boundary misfit (zero when everything is built in)."""
    total = torch.zeros((), dtype=pts.x.dtype)
    ix, js = problem.x_interval, problem.second_interval
    if pts.initial is not None:
        x0 = pts.initial
        t0 = torch.full_like(x0, js.a)
        orders = ((0, 0), (0, 1)) if problem.time_order == 2 else ((0, 0),)
        vals = field_values(model, x0, t0, orders)
        if not model.hard_initial:
            total = total + cfg.ic_weight * ((vals[(0, 0)] - problem.initial(x0)) ** 2).mean()
        if problem.time_order == 2:  # the initial velocity is always a penalty (see the module docstring)
            total = total + cfg.ic_weight * ((vals[(0, 1)] - problem.initial_velocity(x0)) ** 2).mean()
    for side, (bx, bs) in pts.sides.items():
        bc = problem.condition_on(side)
        normal: Order = (1, 0) if side.axis == "x" else (0, 1)
        vals = field_values(model, bx, bs, ((0, 0), normal) if isinstance(bc, Neumann) else ((0, 0),))
        target = boundary_value(bc.value, bx, bs)
        got = vals[(0, 0)] if isinstance(bc, Dirichlet) else side.outward_sign * vals[normal]
        total = total + cfg.bc_weight * ((got - target) ** 2).mean()
    if pts.periodic_x is not None:
        s = pts.periodic_x
        left = field_values(model, torch.full_like(s, ix.a), s, ((0, 0), (1, 0)))
        right = field_values(model, torch.full_like(s, ix.b), s, ((0, 0), (1, 0)))
        total = total + cfg.bc_weight * sum(((left[o] - right[o]) ** 2).mean() for o in left)
    if pts.periodic_y is not None:
        x = pts.periodic_y
        low = field_values(model, x, torch.full_like(x, js.a), ((0, 0), (0, 1)))
        high = field_values(model, x, torch.full_like(x, js.b), ((0, 0), (0, 1)))
        total = total + cfg.bc_weight * sum(((low[o] - high[o]) ** 2).mean() for o in low)
    return total


class GradientSolution:
    """A trained PINN as a solution u(x, t) (or u(x, y)), with the interface of the least-squares solutions."""

    def __init__(self, problem: PDEProblem, model: PDENet, history: list[dict], cfg: PDEGradientConfig,
                 seconds: float) -> None:
        self.problem = problem
        self.model = model
        self.history = history
        self.cfg = cfg
        self.seconds = seconds

    def evaluate(self, x: np.ndarray, s: np.ndarray, orders: tuple[Order, ...] = ((0, 0),),
                 chunk: int = 8192) -> dict[Order, np.ndarray]:
        """Derivatives of u on the grid x (nx,) by s (ns,) (s = t or y): {(p, q): (ns, nx)}."""
        xx, ss = np.meshgrid(np.asarray(x, float), np.asarray(s, float))
        xf, sf = xx.ravel(), ss.ravel()
        dtype = next(self.model.parameters()).dtype
        out = {o: np.empty(xf.size) for o in orders}
        for i in range(0, xf.size, chunk):
            xc = torch.tensor(xf[i:i + chunk], dtype=dtype)
            sc = torch.tensor(sf[i:i + chunk], dtype=dtype)
            if orders == ((0, 0),):
                with torch.no_grad():
                    out[(0, 0)][i:i + chunk] = self.model(xc, sc).double().numpy()
                continue
            vals = field_values(self.model, xc, sc, orders, create_graph=False)
            for o in orders:
                out[o][i:i + chunk] = vals[o].double().numpy()
        return {o: v.reshape(xx.shape) for o, v in out.items()}

    def residual(self, x: np.ndarray, s: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """The PDE residual on the grid x (nx,) by s (ns,): (ns, nx)."""
        xx, ss = np.meshgrid(np.asarray(x, float), np.asarray(s, float))
        xf, sf = xx.ravel(), ss.ravel()
        dtype = next(self.model.parameters()).dtype
        used = self.problem.used_fields()
        out = np.empty(xf.size)
        for i in range(0, xf.size, chunk):
            r = pde_residual(self.problem, self.model, torch.tensor(xf[i:i + chunk], dtype=dtype),
                             torch.tensor(sf[i:i + chunk], dtype=dtype), used, create_graph=False)
            out[i:i + chunk] = r.detach().double().numpy()
        return out.reshape(xx.shape)

    def state_dict(self) -> dict:
        """The network weights and what they mean (loads with ``torch.load(..., weights_only=True)``)."""
        return {"kind": "gradient", "network": self.model.state_dict(),
                "hard_initial": self.model.hard_initial, "hard_sides": [s.value for s in self.model.hard_sides],
                "embedded": self.model.embed, "harmonics": self.model.harmonics}


def solve_gradient(problem: PDEProblem, cfg: PDEGradientConfig = PDEGradientConfig(),
                   dtype: torch.dtype = torch.float64, progress: Optional[Callable[[TrainState], None]] = None,
                   log_every: int = 100) -> GradientSolution:
    """Train the PINN on ``problem`` with :func:`pinn.optim.minimise`: a first-order phase on (mini-batches
    of, optionally resampled) collocation points, then L-BFGS on the full set.

    Returns a :class:`GradientSolution` (history rows {step, loss, lr, phase, seconds}).
    Raises :class:`pinn.errors.Diverged` (a PinnError) holding the last finite network state when the loss
    becomes NaN or infinite; the network keeps that state.
    """
    cfg.validate()
    used = problem.used_fields()
    opt_kind = Optimizer(cfg.optimizer)
    model = build_network(problem, cfg, dtype)
    points = {"sets": _points(problem, model, cfg, cfg.seed, dtype)}
    batch = cfg.batch_size or (256 if opt_kind.mini_batches else 0)
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict] = []
    start = time.perf_counter()

    def loss_at(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        r = pde_residual(problem, model, x, s, used)
        return (r ** 2).mean() + _condition_loss(problem, model, points["sets"], cfg)

    def step_loss(step: int) -> torch.Tensor:
        if cfg.resample_every and step % cfg.resample_every == 0:
            points["sets"] = _points(problem, model, cfg, cfg.seed + step, dtype)
        x, s = points["sets"].x, points["sets"].s
        if batch and batch < x.shape[0]:
            pick = torch.randperm(x.shape[0], generator=gen)[:batch]
            x, s = x[pick], s[pick]
        return loss_at(x, s)

    def log(step: int, total: int, loss: float, lr: float, phase: str) -> None:
        history.append({"step": step, "loss": loss, "lr": lr, "phase": phase, "seconds": time.perf_counter() - start})
        if progress is not None:
            progress(TrainState(step, total, loss, lr, phase))

    phases = Phases(opt_kind, cfg.lr, cfg.epochs, cfg.lbfgs_iters, cfg.schedule, cfg.weight_decay, cfg.momentum)
    minimise(list(model.parameters()), phases, step_loss, lambda: loss_at(points["sets"].x, points["sets"].s),
             lambda: {k: v.detach().clone() for k, v in model.state_dict().items()}, log, log_every)
    return GradientSolution(problem, model, history, cfg, time.perf_counter() - start)
