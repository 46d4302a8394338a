"""Problem specifications: one registry entry per problem, read by every command.

An :class:`ODESpec` (or a :class:`PDESpec` for a partial differential equation) holds everything the commands need to know about an equation, written once: the
parametric right-hand side f(t, u, p), its constants with defaults, valid ranges and help text, the default
initial state and interval, an optional closed-form solution, the catalogue text, and the settings that
``solve``, ``identify``, ``simulate`` and ``surrogate`` use. ``problems/`` defines one spec per module and
the command line builds its sub-commands and options from the registry, so adding a problem touches one
file. This module imports neither torch nor scipy: the command line reads specs to build its help.

The right-hand side f(t, u, p) receives t (n, 1) and u (n, d) tensors and a mapping p of the constants
(floats, or 0-d tensors for constants being estimated) and returns the (n, d) derivative, or a sequence of
d component tensors of shape (n,), which is stacked for you (so a polynomial system needs no torch import).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from pinn.errors import PinnError

MAX_STATE = 1e15
"""Largest initial state component accepted: the same bound as times; squares and products stay finite."""

if TYPE_CHECKING:
    import torch

    from pinn.problem import ODEProblem, Reference

ParametricRhs = Callable[["torch.Tensor", "torch.Tensor", Mapping[str, Any]], Any]
"""f(t, u, p): t (n, 1), u (n, d), p name -> value; returns (n, d) or d tensors of shape (n,)."""


@dataclass(frozen=True)
class Parameter:
    """A named constant of a problem, or a setting of one of its variants, as the commands see it.

    Attributes:
        name: its name (``--name`` on the command line, underscores shown as dashes).
        default: the default value: a float, an int (``integer=True``) or a member of ``choices``.
        help: meaning, units, and the source of the default.
        low, high: valid range; ``strict`` makes it open (low < value < high). Checked before any work.
        plausible: the range ``pinn identify`` searches for a first guess; None: not identifiable.
        grid: how many evenly spaced values of ``plausible`` identification tries (for constants that f
            depends on nonlinearly, such as a frequency); 1 for constants that enter f linearly.
        integer: a whole number.
        choices: for a choice, its ``str`` Enum class.
        in_rhs: passed to the right-hand side (False for settings only the problem's builder reads).
        shown: how the default is written in catalogues and help, when not as a plain number (``8/3``).
    """

    name: str
    default: Any
    help: str
    low: float = -math.inf
    high: float = math.inf
    strict: bool = False
    plausible: Optional[tuple[float, float]] = None
    grid: int = 1
    integer: bool = False
    choices: Optional[type[enum.Enum]] = None
    in_rhs: bool = True
    shown: str = ""

    @property
    def default_text(self) -> str:
        """The default as text: ``shown``, a choice's value, or the number."""
        if self.shown:
            return self.shown
        return self.default.value if isinstance(self.default, enum.Enum) else f"{self.default:.6g}"

    @property
    def option(self) -> str:
        """The command-line flag, e.g. ``--t-final``."""
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any, problem: str) -> Any:
        """``value`` converted to this parameter's type, or PinnError naming the option and its range."""
        if self.choices is not None:
            try:
                return self.choices(value)
            except ValueError:
                names = ", ".join(c.value for c in self.choices)
                raise PinnError(f"{problem}: {self.option} must be one of {names}, got {value!r}") from None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise PinnError(f"{problem}: {self.option} must be a number, got {value!r}") from None
        if self.integer:
            if not number.is_integer():
                raise PinnError(f"{problem}: {self.option} must be a whole number, got {value!r}")
            number = int(number)
        inside = (self.low < number < self.high) if self.strict else (self.low <= number <= self.high)
        if not (math.isfinite(number) and inside):
            raise PinnError(f"{problem}: {self.option} must lie in {self.range_text()}, got {value!r}")
        return number

    def range_text(self) -> str:
        """The valid range as text, e.g. '(0, 1000]'."""
        left = "(" if self.strict or self.low == -math.inf else "["
        right = ")" if self.strict or self.high == math.inf else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class SurrogateSettings:
    """What the data-driven surrogate commands use by default for a problem.

    trajectories, test_trajectories: training + validation and unseen test initial states; dt: sample
    step; t_final: trajectory length; box: initial states uniform in [low, high]^d; substeps: RK4 steps per
    sample step of the data generator; horizon: time units of the evaluation rollouts; lyapunov: the largest
    Lyapunov exponent from the literature (0 for a system that is not chaotic); drive_freqs: angular
    frequencies of a periodic drive, whose phase is a model input.
    """

    trajectories: int
    test_trajectories: int
    dt: float
    t_final: float
    box: tuple[float, float]
    substeps: int
    horizon: float
    lyapunov: float = 0.0
    drive_freqs: tuple[float, ...] = ()


@dataclass(frozen=True)
class SurrogateProblem:
    """A problem as the surrogate commands see it: its right-hand side at the default constants, state
    names, default initial state and the :class:`SurrogateSettings` flattened into attributes."""

    name: str
    rhs: Callable
    components: tuple[str, ...]
    default_ic: tuple[float, ...]
    n_traj: int
    n_test: int
    dt: float
    t_final: float
    box: tuple[float, float]
    substeps: int
    horizon: float
    lyapunov: float
    drive_freqs: tuple[float, ...]

    @property
    def chaotic(self) -> bool:
        """Whether valid prediction times are measured in Lyapunov times."""
        return self.lyapunov > 0


Builder = Callable[["ODESpec", Mapping[str, Any], Optional[Sequence[float]], float, float], "ODEProblem"]
"""build(spec, values, u0 or None, t0, t1) -> ODEProblem, for problems that need more than rhs + exact."""


def stack_components(value: Any) -> "torch.Tensor":
    """A right-hand side's result as an (n, d) tensor: a sequence of d (n,) tensors is stacked."""
    if isinstance(value, (tuple, list)):
        import torch

        return torch.stack(tuple(value), dim=1)
    return value


class _Parameters:
    """Parameter handling shared by :class:`ODESpec` and :class:`PDESpec` (both have ``name``,
    ``parameters`` and ``relations``)."""

    name: str
    parameters: tuple[Parameter, ...]
    relations: Optional[Callable[[Mapping[str, Any]], None]]

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (PinnError listing the known ones otherwise)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise PinnError(f"{self.name} has no parameter {name!r}; its parameters: "
                        f"{', '.join(p.name for p in self.parameters)}")

    @property
    def defaults(self) -> dict[str, Any]:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.parameters}

    @property
    def values(self) -> dict[str, float]:
        """Default values of the constants the equation reads, in report order."""
        return {p.name: float(p.default) for p in self.parameters if p.in_rhs}

    @property
    def constant_names(self) -> tuple[str, ...]:
        """Names of the constants the equation reads."""
        return tuple(self.values)

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Plausible range of each identifiable constant (the first guess is its centre)."""
        return {p.name: p.plausible for p in self.parameters if p.in_rhs and p.plausible is not None}

    @property
    def grid(self) -> dict[str, int]:
        """Grid sizes of the identifiable constants searched on a grid."""
        return {p.name: p.grid for p in self.parameters if p.name in self.ranges and p.grid > 1}

    def resolve(self, values: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
        """Defaults updated by ``values``, each checked against its range, then the relations checked."""
        out = self.defaults
        for name, value in (values or {}).items():
            out[name] = self.parameter(name).check(value, self.name)
        if self.relations is not None:
            self.relations(out)
        return out

    def check_unknowns(self, unknowns: Sequence[str]) -> tuple[str, ...]:
        """The unknown names, validated: identifiable constants of this problem, no repeats."""
        unknowns = tuple(unknowns)
        bad = [u for u in unknowns if u not in self.ranges]
        if bad:
            note = f" ({self.identifiable_note})" if getattr(self, "identifiable_note", "") else ""
            raise PinnError(f"unknown parameter {', '.join(repr(b) for b in bad)} for {self.name}: "
                            f"choose among {', '.join(self.ranges) or 'none (nothing is identifiable)'}{note}")
        if len(set(unknowns)) != len(unknowns):
            raise PinnError(f"a parameter is listed twice in the unknowns ({', '.join(unknowns)})")
        return unknowns


@dataclass(frozen=True)
class ODESpec(_Parameters):
    """One registered ODE problem du/dt = f(t, u; p) (see the module docstring).

    Attributes:
        name: the registry name (``pinn solve <name>``).
        title: one line for command lists.
        equations: the equations as text, for the catalogue and help.
        rhs: f(t, u, p), see :data:`ParametricRhs`.
        components: one name per state component.
        parameters: the constants (and variant settings), see :class:`Parameter`.
        u0, t0, t1: default initial state and interval.
        source: where the equations and default values come from.
        order: 2 for a second-order equation written as a first-order system (positions, then velocities).
        window: default marching window of ``pinn solve`` (a fraction of the fastest time scale).
        identify_window: default window of the identification's piecewise trajectory.
        exact: optional closed form: exact(values, u0, t0) -> (t (n,) -> (n, d)).
        build: optional builder for problems that need more than rhs + exact (see :data:`Builder`).
        relations: optional check of relations between values (raise PinnError), e.g. width < period.
        surrogate: defaults of the surrogate commands, or None if the problem has no surrogate set-up.
        identifiable_note: why some constants cannot be identified, if that is so (shown in errors).
    """

    name: str
    title: str
    equations: str
    rhs: ParametricRhs
    components: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    u0: tuple[float, ...]
    t1: float
    t0: float = 0.0
    source: str = ""
    order: int = 1
    window: float = 0.1
    identify_window: float = 0.2
    exact: Optional[Callable[[Mapping[str, Any], Sequence[float], float], "Reference"]] = None
    build: Optional[Builder] = None
    relations: Optional[Callable[[Mapping[str, Any]], None]] = None
    surrogate: Optional[SurrogateSettings] = None
    identifiable_note: str = ""
    initial_state_note: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.u0) != len(self.components):
            raise PinnError(f"{self.name}: initial state has {len(self.u0)} values for {len(self.components)} "
                            "components")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise PinnError(f"{self.name}: a parameter name is used twice")

    @property
    def dim(self) -> int:
        """State size d."""
        return len(self.components)

    def initial_state(self, u0: Optional[Sequence[float]]) -> tuple[float, ...]:
        """``u0`` checked (length d, finite), or the default."""
        if u0 is None:
            return self.u0
        u0 = tuple(float(v) for v in u0)
        if len(u0) != self.dim:
            raise PinnError(f"{self.name}: the initial state needs {self.dim} values ({' '.join(self.components)}), "
                            f"got {len(u0)}")
        if not all(math.isfinite(v) and abs(v) <= MAX_STATE for v in u0):
            raise PinnError(f"{self.name}: the initial state must be finite and within {MAX_STATE:g} in size "
                            f"(products of states must not overflow), got {u0}")
        return u0

    def problem(self, values: Optional[Mapping[str, Any]] = None, u0: Optional[Sequence[float]] = None,
                t0: Optional[float] = None, t1: Optional[float] = None) -> "ODEProblem":
        """The :class:`~pinn.problem.ODEProblem` at the given values (defaults for the rest)."""
        from pinn.problem import ODEProblem

        resolved = self.resolve(values)
        t0 = self.t0 if t0 is None else float(t0)
        t1 = self.t1 if t1 is None else float(t1)
        self.check_interval(t0, t1)
        if self.build is not None:
            return self.build(self, resolved, u0 if u0 is None else self.initial_state(u0), t0, t1)
        u0 = self.initial_state(u0)
        constants = {k: resolved[k] for k in self.values}
        rhs = self.rhs
        reference = self.exact(resolved, u0, t0) if self.exact is not None else None
        return ODEProblem(name=self.name, rhs=lambda t, u: stack_components(rhs(t, u, constants)), u0=u0,
                          t0=t0, t1=t1, components=self.components, params=resolved, reference=reference,
                          order=self.order, window=self.window)

    def check_interval(self, t0: float, t1: float) -> None:
        """PinnError unless [t0, t1] is an interval the solvers can resolve: finite, |t| <= 1e15, and
        t1 - t0 at least 1e-9 of max(1, |t0|, |t1|) (a span of 5e-324 is round-off, not an interval)."""
        scale = max(1.0, abs(t0), abs(t1)) if math.isfinite(t0) and math.isfinite(t1) else math.inf
        if not (scale <= 1e15 and t1 - t0 >= 1e-9 * scale):
            raise PinnError(f"{self.name}: the final time (--t-final) must be greater than the initial time (--t0) by "
                            "at least 1e-9 of max(1, |t0|, |t1|), "
                            f"both within 1e15; got [{t0:g}, {t1:g}]")

    def constants(self, unknowns: Sequence[str], theta: "torch.Tensor",
                  known: Optional[Mapping[str, float]] = None) -> dict[str, Any]:
        """All constants of f: the unknown ones from ``theta`` (p,), the others from ``known`` or defaults."""
        out: dict[str, Any] = dict(self.values)
        out.update({k: float(v) for k, v in (known or {}).items()})
        for i, name in enumerate(unknowns):
            out[name] = theta[i]
        return out

    def parametric_rhs(self, t: "torch.Tensor", u: "torch.Tensor", p: Mapping[str, Any]) -> "torch.Tensor":
        """f(t, u, p) as an (n, d) tensor."""
        return stack_components(self.rhs(t, u, p))

    def surrogate_problem(self) -> SurrogateProblem:
        """The problem as the surrogate commands see it (PinnError if it has no surrogate set-up)."""
        if self.surrogate is None:
            raise PinnError(f"{self.name} has no surrogate set-up")
        s = self.surrogate
        problem = self.problem()
        return SurrogateProblem(self.name, problem.rhs, self.components, self.u0, s.trajectories,
                                s.test_trajectories, s.dt, s.t_final, s.box, s.substeps, s.horizon, s.lyapunov,
                                s.drive_freqs)

    def with_defaults(self, **values: Any) -> "ODESpec":
        """A copy whose parameter defaults are replaced by ``values`` (checked)."""
        checked = self.resolve(values)
        return replace(self, parameters=tuple(replace(p, default=checked[p.name]) for p in self.parameters))


@dataclass(frozen=True)
class PDESpec(_Parameters):
    """One registered PDE: an evolution problem in x and t, or a steady one in (x, y).

    Attributes:
        name, title, equations, source: as for :class:`ODESpec`.
        parameters: the constants (``Parameter.plausible`` marks the identifiable ones).
        build: build(values) -> :class:`pinn.pde.problem.PDEProblem` at resolved parameter values; an
            evolution problem's values include ``t1``, its final time.
        least_squares: least_squares(values) -> the measured default
            :class:`pinn.pde.config.LeastSquaresConfig` at those values.
        domain, conditions, reference: the catalogue's text: the domain, the initial and boundary conditions,
            and how the reference solution is computed (with its own accuracy).
        t1: default final time (None for a steady problem).
        relations: optional check of relations between values (raise PinnError).
        observation_grid: (points in x, time between samples) of ``pinn simulate``'s observations.
    """

    name: str
    title: str
    equations: str
    parameters: tuple[Parameter, ...]
    build: Callable[[Mapping[str, Any]], Any]
    least_squares: Callable[[Mapping[str, Any]], Any]
    domain: str
    conditions: str
    reference: str
    source: str = ""
    t1: Optional[float] = 1.0
    relations: Optional[Callable[[Mapping[str, Any]], None]] = None
    observation_grid: tuple[int, float] = (256, 0.01)

    @property
    def steady(self) -> bool:
        """A steady problem in two space dimensions (no time interval)."""
        return self.t1 is None

    def problem(self, values: Optional[Mapping[str, Any]] = None, t1: Optional[float] = None) -> Any:
        """The :class:`~pinn.pde.problem.PDEProblem` at ``values`` (defaults for the rest) and final time."""
        resolved = self.resolve(values)
        if self.steady:
            if t1 is not None:
                raise PinnError(f"{self.name} is steady: it has no --t-final")
            return self.build(resolved)
        t1 = self.t1 if t1 is None else float(t1)
        if not (math.isfinite(t1) and 1e-6 <= t1 <= 1e6):
            raise PinnError(f"{self.name}: --t-final must lie in [1e-6, 1e6], got {t1:g}")
        return self.build({**resolved, "t1": t1})

    def solver_settings(self, values: Optional[Mapping[str, Any]] = None) -> Any:
        """The default least-squares settings at ``values``."""
        return self.least_squares(self.resolve(values))


Spec = Union[ODESpec, PDESpec]
"""A registry entry."""


class Registry:
    """Problems by name. ``problems/`` fills one; the command line reads it."""

    def __init__(self, specs: Sequence[Spec] = ()) -> None:
        self._specs: dict[str, Spec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: Spec) -> None:
        """Register ``spec`` (PinnError if its name is taken by another spec)."""
        if spec.name in self._specs and self._specs[spec.name] is not spec:
            raise PinnError(f"two problems are called {spec.name!r}")
        self._specs[spec.name] = spec

    def get(self, name: str, kind: Optional[type] = None, purpose: str = "") -> Any:
        """The spec called ``name`` (of class ``kind`` if given); PinnError listing the known names."""
        spec = self._specs.get(name)
        if spec is None or (kind is not None and not isinstance(spec, kind)):
            known = ", ".join(self.names(kind))
            what = f" for {purpose}" if purpose else ""
            raise PinnError(f"unknown problem {name!r}{what}; known problems: {known}")
        return spec

    def names(self, kind: Optional[type] = None) -> list[str]:
        """Registered names (of class ``kind`` if given), in registration order."""
        return [n for n, s in self._specs.items() if kind is None or isinstance(s, kind)]

    def __iter__(self) -> Iterator[Spec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs
