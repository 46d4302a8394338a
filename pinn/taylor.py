"""A high-order Taylor-series integrator: the reference that is more accurate than DOP853.

On each step the solution is its Taylor polynomial about t_n,

    u(t_n + s) = sum_{k=0}^{p} U_k s^k,   U_0 = u_n,   U_{k+1} = F_k / (k + 1),

where F_k is the k-th Taylor coefficient of f(t, u(t)). The coefficients come from automatic Taylor
arithmetic: the right-hand side is evaluated on truncated power series (:class:`Jet`) instead of numbers,
one more coefficient per evaluation. The unmodified torch right-hand side of an :class:`~pinn.ODEProblem`
runs on jets through torch's ``__torch_function__`` protocol, for right-hand sides built from indexing,
``+ - * /``, integer powers, ``torch.stack``/``torch.cat``, ``torch.sin``/``cos``/``exp`` (polynomial systems
such as Lorenz and Van der Pol); any other operation raises :class:`TaylorUnsupported`.

The step is chosen from the last two coefficients (Jorba & Zou 2005, Exp. Math. 14, 99): h = min over
k in {p-1, p} of (tol max(1, |u_n|) / |U_k|)^(1/k), so the first neglected terms are below ``tol``; the
polynomial is the dense output between steps. With p = 30 and tol = 1e-18 the error per step is at
round-off. With ``digits`` set the same algorithm runs in mpmath's extended precision, which checks the
float64 run's round-off.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Optional

import numpy as np
import torch

from pinn.errors import PinnError


class TaylorUnsupported(PinnError):
    """The right-hand side uses an operation that Taylor arithmetic does not provide."""


@lru_cache(maxsize=64)
def _cauchy_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    k, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.clip(k - j, 0, None), (j <= k)


def _as_coefficients(value: Any, like: np.ndarray) -> Optional[np.ndarray]:
    """A plain number or 0-d tensor as a constant series (None if it is not a scalar)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return None
        value = float(value)
    if isinstance(value, (int, float, np.floating, np.integer)):
        out = np.zeros_like(like)
        out[0] = value
        return out
    return None


class Jet:
    """A truncated Taylor series sum_k c_k s^k with array coefficients ``c`` of shape (K, *value_shape)."""

    __slots__ = ("c",)

    def __init__(self, c: np.ndarray) -> None:
        self.c = c

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the value (the coefficients without their leading series axis)."""
        return self.c.shape[1:]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index: Any) -> "Jet":
        index = index if isinstance(index, tuple) else (index,)
        return Jet(self.c[(slice(None),) + index])

    def _other(self, other: Any) -> np.ndarray:
        if isinstance(other, Jet):
            return other.c
        coeffs = _as_coefficients(other, self.c)
        if coeffs is None:
            raise TaylorUnsupported(f"Taylor arithmetic with a {type(other).__name__} of shape "
                                    f"{getattr(other, 'shape', '?')} is not supported")
        return coeffs

    def __add__(self, other: Any) -> "Jet":
        return Jet(self.c + self._other(other))

    __radd__ = __add__

    def __sub__(self, other: Any) -> "Jet":
        return Jet(self.c - self._other(other))

    def __rsub__(self, other: Any) -> "Jet":
        return Jet(self._other(other) - self.c)

    def __neg__(self) -> "Jet":
        return Jet(-self.c)

    def __mul__(self, other: Any) -> "Jet":
        if not isinstance(other, Jet):
            scalar = _as_coefficients(other, self.c)
            if scalar is None:
                raise TaylorUnsupported(f"Taylor arithmetic with a {type(other).__name__} is not supported")
            return Jet(self.c * scalar[0])
        return Jet(_cauchy(self.c, other.c))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "Jet":
        if not isinstance(other, Jet):
            return self * (1.0 / float(other))
        return Jet(_divide(self.c, other.c))

    def __rtruediv__(self, other: Any) -> "Jet":
        return Jet(_divide(self._other(other), self.c))

    def __pow__(self, power: Any) -> "Jet":
        if not (isinstance(power, (int, np.integer)) or float(power).is_integer()) or power < 0:
            raise TaylorUnsupported(f"Taylor arithmetic supports non-negative integer powers, got {power}")
        out = Jet(_as_coefficients(1.0, self.c))
        for _ in range(int(power)):
            out = out * self
        return out

    @classmethod
    def __torch_function__(cls, func: Callable, types: Any, args: tuple = (), kwargs: Optional[dict] = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        if func in (torch.stack, torch.cat):
            items, dim = args[0], kwargs.get("dim", args[1] if len(args) > 1 else 0)
            ref = next(x for x in items if isinstance(x, Jet))
            coeffs = [x.c if isinstance(x, Jet) else ref._other(x) for x in items]
            dim = dim if dim < 0 else dim + 1  # the series axis comes first
            return Jet((np.stack if func is torch.stack else np.concatenate)(coeffs, axis=dim))
        unary = {torch.sin: "sin", torch.cos: "cos", torch.exp: "exp"}
        if func in unary and len(args) == 1:
            return _elementary(unary[func], args[0].c)
        if func in (torch.mul, torch.add, torch.sub) and len(args) == 2 and not kwargs:
            ref = next(x for x in args if isinstance(x, Jet))
            a, b = (x if isinstance(x, Jet) else Jet(ref._other(x)) for x in args)
            return a * b if func is torch.mul else a + b if func is torch.add else a - b
        raise TaylorUnsupported(f"the right-hand side uses torch.{name}, which Taylor arithmetic does not provide")


def _cauchy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients of the product series: c_k = sum_{j<=k} a_j b_{k-j}."""
    n = a.shape[0]
    back, mask = _cauchy_index(n)
    extra = (1,) * (max(a.ndim, b.ndim) - 1)
    terms = a[None, :] * b[back] if a.ndim >= b.ndim else b[None, :] * a[back]
    return (terms * mask.reshape(n, n, *extra)).sum(axis=1)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """q = a / b as series: q_k = (a_k - sum_{j=1}^k b_j q_{k-j}) / b_0."""
    a, b = np.broadcast_arrays(a, b)
    q = np.zeros_like(a * b[0])
    for k in range(a.shape[0]):
        acc = a[k] - sum(b[j] * q[k - j] for j in range(1, k + 1))
        q[k] = acc / b[0]
    return q


def _scalar_fn(name: str, x: np.ndarray) -> np.ndarray:
    if x.dtype == object:
        import mpmath

        return np.vectorize(getattr(mpmath, name), otypes=[object])(x)
    return getattr(np, name)(x)


def _elementary(name: str, a: np.ndarray) -> Jet:
    """sin, cos or exp of a series by the recurrences of (sin, cos)' = (cos, -sin) a' and exp' = exp a'."""
    n = a.shape[0]
    if name == "exp":
        e = np.zeros_like(a)
        e[0] = _scalar_fn("exp", a[0])
        for k in range(1, n):
            e[k] = sum(j * a[j] * e[k - j] for j in range(1, k + 1)) / k
        return Jet(e)
    s, c = np.zeros_like(a), np.zeros_like(a)
    s[0], c[0] = _scalar_fn("sin", a[0]), _scalar_fn("cos", a[0])
    for k in range(1, n):
        s[k] = sum(j * a[j] * c[k - j] for j in range(1, k + 1)) / k
        c[k] = -sum(j * a[j] * s[k - j] for j in range(1, k + 1)) / k
    return Jet(s if name == "sin" else c)


def taylor_coefficients(rhs: Callable, t: Any, u: np.ndarray, order: int) -> np.ndarray:
    """U_0 .. U_order of the solution through (t, u): u (d,) -> (order + 1, d) (dtype of ``u``)."""
    d = u.shape[0]
    U = np.zeros((order + 1, 1, d), dtype=u.dtype)
    T = np.zeros((order + 1, 1, 1), dtype=u.dtype)
    U[0, 0], T[0, 0, 0] = u, t
    if order >= 1:
        T[1, 0, 0] = 1
    for k in range(order):
        f = rhs(Jet(T[: k + 1]), Jet(U[: k + 1]))
        if not isinstance(f, Jet) or f.shape != (1, d):
            raise TaylorUnsupported("the right-hand side must return an (n, d) result built from u")
        U[k + 1] = f.c[k] / (k + 1)
    return U[:, 0, :]


def _horner(U: np.ndarray, s: np.ndarray) -> np.ndarray:
    out = np.zeros((s.size, U.shape[1]), dtype=U.dtype) + U[-1]
    for k in range(U.shape[0] - 2, -1, -1):
        out = out * s[:, None] + U[k]
    return out


def _step_size(U: np.ndarray, tol: float) -> float:
    p = U.shape[0] - 1
    scale = tol * max(1.0, float(np.max(np.abs(U[0].astype(float)))))
    h = np.inf
    for k in (p - 1, p):
        size = float(np.max(np.abs(U[k].astype(float))))
        if size > 0:
            h = min(h, (scale / size) ** (1.0 / k))
    return h


BLOW_UP = 1e12
"""A solution larger than this is taken to be blowing up (as in :mod:`pinn.reference`)."""


def taylor_solve(rhs: Callable, u0: np.ndarray, t: np.ndarray, order: int = 30, tol: float = 1e-18,
                 digits: Optional[int] = None, max_steps: int = 200_000) -> np.ndarray:
    """Integrate du/dt = f(t, u) from (t[0], u0) and return u at the increasing times ``t``: (n, d).

    Args:
        rhs: f(t, u) written with torch operations on t (n, 1) and u (n, d) (see the module docstring).
        u0: (d,) initial state at t[0].
        order: degree p of the Taylor polynomial per step.
        tol: size of the first neglected terms relative to max(1, |u|).
        digits: if set, compute in mpmath with this many decimal digits (slow; for checking round-off);
            the result is still returned in float64.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 1 or np.any(np.diff(t) < 0):
        raise PinnError("taylor_solve needs increasing output times t (n,)")
    if order < 2:
        raise PinnError("taylor_solve needs order >= 2")
    if digits is None:
        return _integrate(rhs, np.asarray(u0, dtype=float).copy(), float(t[0]), t, order, tol, max_steps, None)
    import mpmath

    with mpmath.workdps(digits):
        convert = np.vectorize(mpmath.mpf, otypes=[object])
        return _integrate(rhs, convert(np.asarray(u0, dtype=float)), mpmath.mpf(float(t[0])), t, order, tol,
                          max_steps, convert)


def _integrate(rhs: Callable, u: np.ndarray, tn: Any, t: np.ndarray, order: int, tol: float, max_steps: int,
               convert: Optional[Callable]) -> np.ndarray:
    out = np.empty((t.size, u.size))
    done = 0
    for _ in range(max_steps):
        U = taylor_coefficients(rhs, tn, u, order)
        if not np.all(np.isfinite(U.astype(float))) or float(np.max(np.abs(U[0].astype(float)))) > BLOW_UP:
            raise PinnError(f"the reference solution blows up (|u| > {BLOW_UP:.0e}) at t = {float(tn):.6g}; check "
                            "the parameters and the initial state")
        h = _step_size(U, tol)
        upto = int(np.searchsorted(t, float(tn) + h, side="right"))
        if upto > done:
            s = convert(t[done:upto]) - tn if convert else t[done:upto] - tn
            out[done:upto] = _horner(U, s).astype(float)
            done = upto
        if done == t.size:
            return out
        step = convert(np.array([h]))[0] if convert else h
        u = _horner(U, np.array([step], dtype=U.dtype))[0]
        tn = tn + step
    raise PinnError(f"the Taylor reference needed more than {max_steps} steps")
