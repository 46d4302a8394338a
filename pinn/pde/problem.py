"""A PDE problem: domain, time interval, residual, initial and boundary conditions, exact solution.

Two kinds of problem are described by one :class:`PDEProblem`:

* evolution in one space dimension, ``domain = Interval(a, b)`` and ``time = Interval(t0, t1)``:
  R(x, t, u, u_t, u_tt, u_x, u_xx) = 0 with an initial state u(x, t0) = u0(x) (and u_t(x, t0) = v0(x)
  when the equation is second order in time, as the wave equation);
* steady problems in two space dimensions, ``domain = Rectangle(...)`` and ``time = None``:
  R(x, y, u, u_x, u_y, u_xx, u_yy, u_xy) = 0.

The residual is written in torch from a :class:`Derivatives` object, exactly as the equation reads::

    burgers = lambda d, p: d.u_t + d.u * d.u_x - p["nu"] * d.u_xx        # = 0
    poisson = lambda d, p: -(d.u_xx + d.u_yy) - f(d.x, d.y)               # = 0

Every field of ``d`` is a tensor of shape (n,) holding that quantity at n points. Solvers evaluate the
residual pointwise, so it must not mix points (no sums or means over the batch). The least-squares solver
differentiates it by forward-mode products with respect to each field, which makes its Gauss-Newton Jacobian
exact; the gradient PINN fills ``d`` by autograd (:func:`derivatives_by_autograd`).

Boundary conditions are :class:`Dirichlet` (u = g), :class:`Neumann` (outward normal derivative du/dn = g)
and :class:`Periodic` (u and its derivatives equal on opposite sides). Boundary values g are floats or
torch functions of the boundary point: g(x, t) on an interval's ends, g(x, y) on a rectangle's sides.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Optional, Union

import numpy as np
import torch
import torch.autograd.forward_ad as fwad

from pinn.errors import PinnError


# ---------------------------------------------------------------------------------------------- domains
@dataclass(frozen=True)
class Interval:
    """The closed interval [a, b] with a < b (a space or time interval)."""

    a: float
    b: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise PinnError(f"interval ends must be finite numbers, got [{self.a}, {self.b}]")
        if not self.b > self.a:
            raise PinnError(f"empty interval [{self.a}, {self.b}]: the right end must exceed the left end")

    @property
    def length(self) -> float:
        """b - a."""
        return self.b - self.a


@dataclass(frozen=True)
class Rectangle:
    """The rectangle [x.a, x.b] x [y.a, y.b] of a steady two-dimensional problem."""

    x: Interval
    y: Interval


Domain = Union[Interval, Rectangle]


# ---------------------------------------------------------------------------------- boundary conditions
class Side(str, enum.Enum):
    """A side of the spatial domain: ``left``/``right`` are x = a / x = b (intervals and rectangles),
    ``bottom``/``top`` are y = c / y = d (rectangles only)."""

    left = "left"
    right = "right"
    bottom = "bottom"
    top = "top"

    @property
    def axis(self) -> str:
        """'x' for left/right, 'y' for bottom/top."""
        return "x" if self in (Side.left, Side.right) else "y"

    @property
    def outward_sign(self) -> float:
        """+1 where the outward normal points along +axis (right, top), -1 otherwise."""
        return 1.0 if self in (Side.right, Side.top) else -1.0


BoundaryValue = Union[float, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]
"""A boundary value: a constant, or g(x, t) (interval ends) / g(x, y) (rectangle sides) in torch, with
arguments and result of shape (n,)."""


@dataclass(frozen=True)
class Dirichlet:
    """u = value on ``side``."""

    side: Side
    value: BoundaryValue = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", _side(self.side))


@dataclass(frozen=True)
class Neumann:
    """du/dn = value on ``side``, n the outward unit normal (so du/dn = -u_x at the left end)."""

    side: Side
    value: BoundaryValue = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", _side(self.side))


@dataclass(frozen=True)
class Periodic:
    """u and all its derivatives agree on the two sides across ``axis`` ('x': left = right, 'y': bottom = top)."""

    axis: str = "x"

    def __post_init__(self) -> None:
        if self.axis not in ("x", "y"):
            raise PinnError(f"Periodic axis must be 'x' or 'y', got {self.axis!r}")


BoundaryCondition = Union[Dirichlet, Neumann, Periodic]


def _side(side: Side | str) -> Side:
    try:
        return Side(side)
    except ValueError:
        raise PinnError(f"unknown side {side!r}; use one of {', '.join(s.value for s in Side)}") from None


def boundary_value(value: BoundaryValue, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """g at boundary points (a, b) = (x, t) or (x, y), each (n,): returns (n,) in a's dtype."""
    if callable(value):
        out = value(a, b)
        out = torch.as_tensor(out, dtype=a.dtype)
        return out.expand(a.shape) if out.ndim == 0 else out.reshape(a.shape)
    return torch.full_like(a, float(value))


# --------------------------------------------------------------------------------------- derivatives
class Field(str, enum.Enum):
    """Quantities a residual may use: the solution and its partial derivatives."""

    u = "u"
    u_t = "u_t"
    u_tt = "u_tt"
    u_x = "u_x"
    u_xx = "u_xx"
    u_y = "u_y"
    u_yy = "u_yy"
    u_xy = "u_xy"

    @property
    def orders(self) -> tuple[int, int]:
        """(derivative order along x, along the second coordinate t or y)."""
        name = self.value[2:] if self.value != "u" else ""
        return name.count("x"), len(name) - name.count("x")


EVOLUTION_FIELDS = (Field.u, Field.u_t, Field.u_tt, Field.u_x, Field.u_xx)
"""Fields of an evolution problem in (x, t)."""
STEADY_FIELDS = (Field.u, Field.u_x, Field.u_y, Field.u_xx, Field.u_yy, Field.u_xy)
"""Fields of a steady problem in (x, y)."""


@dataclass
class Derivatives:
    """The solution and its derivatives at n points, each a tensor of shape (n,).

    Coordinates: x always; t for evolution problems, y for steady 2-D ones (the other is None).
    Fields that do not exist for the problem's kind are None (u_y in an evolution problem, u_t in a
    steady one).
    """

    x: torch.Tensor
    u: torch.Tensor
    t: Optional[torch.Tensor] = None
    y: Optional[torch.Tensor] = None
    u_t: Optional[torch.Tensor] = None
    u_tt: Optional[torch.Tensor] = None
    u_x: Optional[torch.Tensor] = None
    u_xx: Optional[torch.Tensor] = None
    u_y: Optional[torch.Tensor] = None
    u_yy: Optional[torch.Tensor] = None
    u_xy: Optional[torch.Tensor] = None

    def field(self, name: Field | str) -> Optional[torch.Tensor]:
        """The tensor of field ``name``."""
        return getattr(self, Field(name).value)

    def with_fields(self, values: Mapping[Field, torch.Tensor]) -> "Derivatives":
        """A copy with the given fields replaced (coordinates kept)."""
        return replace(self, **{Field(k).value: v for k, v in values.items()})


def derivatives_by_autograd(u_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor,
                            second: torch.Tensor, steady: bool = False,
                            create_graph: bool = False) -> Derivatives:
    """Fill a :class:`Derivatives` from a differentiable function u = u_fn(x, t) (or u_fn(x, y)) by autograd.

    x, second: (n,) coordinates (t for evolution problems, y with ``steady=True``); u_fn must act pointwise
    and return (n,). ``create_graph=True`` keeps the graph, as a gradient-trained PINN needs.
    Used to plug exact solutions into residuals and by the gradient PINN.
    """
    if x.shape != second.shape or x.ndim != 1:
        raise PinnError(f"x and {'y' if steady else 't'} must be 1-D tensors of one length, got "
                        f"{tuple(x.shape)} and {tuple(second.shape)}")
    x = x.detach().clone().requires_grad_(True)
    s = second.detach().clone().requires_grad_(True)
    u = u_fn(x, s).reshape(x.shape)

    def grad(f: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if not f.requires_grad:  # f does not depend on the coordinates (a constant, or a zero derivative)
            return torch.zeros_like(v)
        (g,) = torch.autograd.grad(f.sum(), v, create_graph=True, allow_unused=True)
        return torch.zeros_like(v) if g is None else g

    u_x, u_s = grad(u, x), grad(u, s)
    u_xx, u_ss, u_xs = grad(u_x, x), grad(u_s, s), grad(u_x, s)
    keep = (lambda v: v) if create_graph else (lambda v: v.detach())
    if steady:
        return Derivatives(x=keep(x), y=keep(s), u=keep(u), u_x=keep(u_x), u_y=keep(u_s), u_xx=keep(u_xx),
                           u_yy=keep(u_ss), u_xy=keep(u_xs))
    return Derivatives(x=keep(x), t=keep(s), u=keep(u), u_t=keep(u_s), u_tt=keep(u_ss), u_x=keep(u_x),
                       u_xx=keep(u_xx))


Residual = Callable[[Derivatives, Mapping[str, float]], torch.Tensor]
"""R(d, params) -> (n,): the PDE residual, zero for the exact solution."""

InitialState = Callable[[torch.Tensor], torch.Tensor]
"""u0(x) (or v0(x)) in torch: x (n,) -> (n,); differentiated by autograd, so use torch operations."""

ExactSolution = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""u(x, t) (or u(x, y)) in torch: (n,), (n,) -> (n,)."""

GridReference = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""A reference solution on a grid: (x (nx,), t (nt,)) -> u (nt, nx), or (x (nx,), y (ny,)) -> u (ny, nx)."""


# ------------------------------------------------------------------------------------------- problem
@dataclass(frozen=True)
class PDEProblem:
    """A scalar PDE with its domain, conditions and (optionally) its exact or reference solution.

    Attributes:
        name: label for run folders and plots.
        domain: an :class:`Interval` (evolution in x, t) or a :class:`Rectangle` (steady in x, y).
        time: the time interval of an evolution problem; None for a steady problem.
        residual: R(d, params) (see :data:`Residual` and the module docstring).
        initial: u0(x), required for evolution problems.
        initial_velocity: v0(x) = u_t(x, t0); give it exactly when the equation is second order in time
            (it contains u_tt), and only then.
        boundary: the boundary conditions; every side must be covered exactly once (a :class:`Periodic`
            covers two).
        params: the equation's constants, passed to ``residual`` and recorded in run folders.
        exact: optional exact solution u(x, t) / u(x, y) in torch.
        reference: optional reference on a grid (used when ``exact`` is None), see :data:`GridReference`.
        description: one line on the equation and its source, shown in listings and run folders.
    """

    name: str
    domain: Domain
    residual: Residual
    boundary: tuple[BoundaryCondition, ...]
    time: Optional[Interval] = None
    initial: Optional[InitialState] = None
    initial_velocity: Optional[InitialState] = None
    params: Mapping[str, float] = field(default_factory=dict)
    exact: Optional[ExactSolution] = None
    reference: Optional[GridReference] = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "boundary", tuple(self.boundary))
        for key, value in self.params.items():
            if isinstance(value, (int, float)) and not math.isfinite(value):
                raise PinnError(f"{self.name}: parameter {key} = {value} is not a finite number")
        if isinstance(self.domain, Interval):
            if self.time is None:
                raise PinnError(f"{self.name}: a problem on an interval needs a time interval (steady problems "
                                "are solved on a Rectangle)")
            if self.initial is None:
                raise PinnError(f"{self.name}: an evolution problem needs an initial state u0(x)")
        elif isinstance(self.domain, Rectangle):
            if self.time is not None:
                raise PinnError(f"{self.name}: problems on a Rectangle must be steady (time=None)")
            if self.initial is not None or self.initial_velocity is not None:
                raise PinnError(f"{self.name}: a steady problem takes no initial state")
        else:
            raise PinnError(f"{self.name}: domain must be an Interval or a Rectangle, got {type(self.domain)}")
        self._check_boundary()

    def _check_boundary(self) -> None:
        sides = list(Side) if self.steady else [Side.left, Side.right]
        covered: list[Side] = []
        for bc in self.boundary:
            if isinstance(bc, Periodic):
                if bc.axis == "y" and not self.steady:
                    raise PinnError(f"{self.name}: an interval has no y axis; use Periodic('x')")
                covered += [Side.left, Side.right] if bc.axis == "x" else [Side.bottom, Side.top]
            elif isinstance(bc, (Dirichlet, Neumann)):
                if bc.side not in sides:
                    raise PinnError(f"{self.name}: side {bc.side.value!r} does not exist on an interval; "
                                    "use left or right")
                covered.append(bc.side)
            else:
                raise PinnError(f"{self.name}: boundary conditions are Dirichlet, Neumann or Periodic, "
                                f"got {type(bc).__name__}")
        missing = [s.value for s in sides if s not in covered]
        doubled = sorted({s.value for s in covered if covered.count(s) > 1})
        if missing or doubled:
            raise PinnError(f"{self.name}: every side needs exactly one boundary condition "
                            f"(missing: {missing or 'none'}, given twice: {doubled or 'none'})")

    @property
    def steady(self) -> bool:
        """True for a steady problem on a Rectangle."""
        return self.time is None

    @property
    def time_order(self) -> int:
        """0 for steady problems, 2 when an initial velocity is given, else 1."""
        if self.steady:
            return 0
        return 2 if self.initial_velocity is not None else 1

    @property
    def fields(self) -> tuple[Field, ...]:
        """The fields a residual of this kind of problem may use."""
        return STEADY_FIELDS if self.steady else EVOLUTION_FIELDS

    @property
    def x_interval(self) -> Interval:
        """The spatial interval along x."""
        return self.domain.x if isinstance(self.domain, Rectangle) else self.domain

    @property
    def second_interval(self) -> Interval:
        """The interval of the second coordinate: time for evolution problems, y for steady ones."""
        return self.domain.y if isinstance(self.domain, Rectangle) else self.time

    def periodic(self, axis: str = "x") -> bool:
        """Whether the problem is periodic along ``axis``."""
        return any(isinstance(bc, Periodic) and bc.axis == axis for bc in self.boundary)

    def condition_on(self, side: Side) -> Optional[BoundaryCondition]:
        """The Dirichlet/Neumann condition on ``side`` (None if that side is periodic)."""
        for bc in self.boundary:
            if isinstance(bc, (Dirichlet, Neumann)) and bc.side is side:
                return bc
        return None

    def evaluate_residual(self, d: Derivatives) -> torch.Tensor:
        """R(d, params) checked for shape: returns (n,)."""
        r = self.residual(d, self.params)
        if not isinstance(r, torch.Tensor) or r.shape != d.u.shape:
            shape = tuple(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
            raise PinnError(f"{self.name}: the residual must return a tensor of shape {tuple(d.u.shape)} "
                            f"(one value per point), got {shape}")
        return r

    def residual_partials(self, d: Derivatives, wrt: tuple[Field, ...]) -> dict[Field, torch.Tensor]:
        """dR/df at each point for every field f in ``wrt``: {f: (n,)}.

        Forward mode (a dual number per field, torch.autograd.forward_ad): R acts pointwise, so one
        product with a tangent of ones gives the partial at every point, exactly.
        """
        out = {}
        with fwad.dual_level():
            for f in wrt:
                value = d.field(f)
                dual = fwad.make_dual(value, torch.ones_like(value))
                tangent = fwad.unpack_dual(self.evaluate_residual(d.with_fields({f: dual}))).tangent
                out[f] = torch.zeros_like(value) if tangent is None else tangent
        return out

    def used_fields(self) -> tuple[Field, ...]:
        """The fields the residual depends on, found by differentiating it at random field values."""
        gen = torch.Generator().manual_seed(0)
        n = 7
        a, s = self.x_interval, self.second_interval
        x = a.a + a.length * torch.rand(n, generator=gen, dtype=torch.float64)
        c = s.a + s.length * torch.rand(n, generator=gen, dtype=torch.float64)
        base = {f.value: torch.rand(n, generator=gen, dtype=torch.float64) + 0.5 for f in self.fields}
        coords = {"x": x, ("y" if self.steady else "t"): c}
        partials = self.residual_partials(Derivatives(**coords, **base), self.fields)
        used = [f for f in self.fields if bool(torch.any(partials[f] != 0))]
        if not self.steady:
            if Field.u_tt in used and self.initial_velocity is None:
                raise PinnError(f"{self.name}: the residual contains u_tt, so the problem needs "
                                "initial_velocity v0(x) = u_t(x, t0)")
            if Field.u_tt not in used and self.initial_velocity is not None:
                raise PinnError(f"{self.name}: initial_velocity is given but the residual has no u_tt")
        return tuple(used)

    def is_linear(self) -> bool:
        """Whether the residual is affine in the fields (its partial derivatives do not depend on them),
        found by comparing the forward-mode derivatives at two random states."""
        gen = torch.Generator().manual_seed(1)
        n = 7
        a, s = self.x_interval, self.second_interval
        x = a.a + a.length * torch.rand(n, generator=gen, dtype=torch.float64)
        c = s.a + s.length * torch.rand(n, generator=gen, dtype=torch.float64)
        coords = {"x": x, ("y" if self.steady else "t"): c}

        def partials(state: torch.Tensor) -> list[torch.Tensor]:
            d = Derivatives(**coords, **{f.value: state[k] for k, f in enumerate(self.fields)})
            return list(self.residual_partials(d, self.fields).values())

        s1 = torch.randn(len(self.fields), n, generator=gen, dtype=torch.float64)
        s2 = torch.randn(len(self.fields), n, generator=gen, dtype=torch.float64) * 3.0
        return all(bool(torch.allclose(g1, g2, rtol=1e-12, atol=1e-12))
                   for g1, g2 in zip(partials(s1), partials(s2)))

    def exact_on_grid(self, x: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The exact solution (or the reference) on the grid x (nx,) by t or y (m,): returns (m, nx)."""
        if self.exact is not None:
            xx, ss = np.meshgrid(np.asarray(x, float), np.asarray(second, float))
            with torch.no_grad():
                u = self.exact(torch.from_numpy(xx.ravel()), torch.from_numpy(ss.ravel()))
            return torch.as_tensor(u, dtype=torch.float64).reshape(xx.shape).numpy()
        if self.reference is not None:
            u = np.asarray(self.reference(np.asarray(x, float), np.asarray(second, float)), dtype=float)
            if u.shape != (len(second), len(x)):
                raise PinnError(f"{self.name}: the reference returned shape {u.shape}, expected "
                                f"{(len(second), len(x))} (rows = {'y' if self.steady else 't'})")
            return u
        raise PinnError(f"{self.name}: no exact solution or reference to compare with")

    @property
    def has_reference(self) -> bool:
        """True when an exact solution or a grid reference is available."""
        return self.exact is not None or self.reference is not None

    def summary(self) -> dict:
        """Plain-data description for config.json and checkpoints."""
        out = {"name": self.name, "description": self.description, "steady": self.steady,
               "params": {k: float(v) for k, v in self.params.items()},
               "boundary": [type(bc).__name__ + (f"({bc.axis})" if isinstance(bc, Periodic) else
                                                 f"({bc.side.value})") for bc in self.boundary]}
        x = self.x_interval
        out["x"] = [x.a, x.b]
        if self.steady:
            out["y"] = [self.domain.y.a, self.domain.y.b]
        else:
            out["t"] = [self.time.a, self.time.b]
            out["time_order"] = self.time_order
        return out


__all__ = ["Interval", "Rectangle", "Side", "Dirichlet", "Neumann", "Periodic", "Field", "Derivatives",
           "PDEProblem", "derivatives_by_autograd", "boundary_value", "EVOLUTION_FIELDS", "STEADY_FIELDS"]
