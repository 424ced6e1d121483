"""The noisy Wishart projection mechanisms (seed 000, arXiv 2601.21719; claims WPM-7 to WPM-9).

``M = A^T A`` with ``A`` an ``r x d`` matrix of iid ``N(0, 1/r)`` entries, ``E ~ N(0, sigma^2 I_d)``
independent of ``M``, unit vectors ``V, V'`` with alignment ``rho = V^T V'``:

* :class:`WishartNoisyPost` ``(d, r, rho, sigma)``: "project, then add noise", ``V -> MV + E``;
* :class:`WishartNoisyPre` ``(d, r, rho, sigma, release)``: "add noise, then project",
  ``V -> M(V + E)``; ``release="output"`` releases ``M(V + E)`` only, ``release="matrix"`` also
  releases ``M`` (as LoRA does: the frozen ``A`` is part of the released adapter).

``delta(eps)`` returns a certified enclosure of the true profile. It is a numerical enclosure
(width set by ``target``) for ``WishartNoisyPre(release="matrix")``, whose profile is exact
(``E_beta delta_G(mu sqrt(beta), eps)``, :mod:`certify.wishart.noisy_pre`); for the other two it is
a certified *bracket* ``[lower bound, upper bound]`` whose width is the gap between the methods
(:mod:`certify.wishart.noisy`), not numerical error. ``epsilon(delta)`` likewise.
``gaussian_delta(eps)`` is the Gaussian mechanism alone at the same ``sigma`` and sensitivity
``||V - V'|| = sqrt(2 (1 - rho))`` (Balle-Wang Thm 8, :mod:`certify.mechanisms.gaussian`).

Samplers (numpy, or torch on ``device``: CUDA when requested or, by default, when available):
:func:`sample_noisy_post` and :func:`sample_noisy_pre`, each with ``method="law"`` (the exact
representation ``Mx = ||x|| (s x^ + sqrt(s/r) Z_perp)``, ``s ~ chi2_r / r``, O(d) per draw;
``proofs/wishart_noisy.py``) or ``method="direct"`` (draw ``A``, O(r d) per draw).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from certify._backend import BACKENDS, NormalSource, batches
from certify._validate import (
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)
from certify.errors import InvalidArgument
from certify.mechanisms._common import DELTA_TARGET, ball, exact_text
from certify.mechanisms.base import MechanismEntry, register_mechanism
from certify.mechanisms.gaussian import gaussian_delta_ball
from certify.mechanisms.wishart import check_d_r, check_rho
from certify.numerics.bound import Bound
from certify.numerics.precision import Target, escalate

if TYPE_CHECKING:
    from certify.wishart.noisy import ProfileBracket

__all__ = [
    "BACKENDS",
    "RELEASES",
    "WishartNoisyPost",
    "WishartNoisyPre",
    "canonical_pair",
    "sample_noisy_post",
    "sample_noisy_pre",
]

METHODS: tuple[str, ...] = ("law", "direct")
#: release models of M(V + E): the output alone, or the output together with M
RELEASES: tuple[str, ...] = ("output", "matrix")
#: cap on float64 numbers held by one batch's intermediates (32 MiB)

FloatArray = NDArray[np.float64]


def _params(d: object, r: object, rho: object, sigma: object) -> tuple[int, int, Fraction,
                                                                      Fraction]:
    d_, r_ = check_d_r(d, r)
    return d_, r_, check_rho(rho), check_positive("sigma", sigma)


def canonical_pair(d: int, rho: Fraction) -> tuple[FloatArray, FloatArray]:
    """``V = e_1``, ``V' = rho e_1 + sqrt(1 - rho^2) e_2`` (float64): every pair with alignment
    ``rho`` is a rotation of it, and both mechanisms are rotation-equivariant."""
    v = np.zeros(d)
    v[0] = 1.0
    w = np.zeros(d)
    w[0] = float(rho)
    w[1] = math.sqrt(max(0.0, 1.0 - float(rho) ** 2))
    return v, w


class _Noisy:
    """Shared parameters, the Gaussian comparison and the epsilon bracket."""

    d: int
    r: int
    rho: Fraction
    sigma: Fraction
    name: str

    def mu_sq(self) -> Fraction:
        """``mu_G^2 = ||V - V'||^2 / sigma^2 = 2 (1 - rho) / sigma^2`` (exact)."""
        return 2 * (1 - self.rho) / (self.sigma * self.sigma)

    def gaussian_delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """The Gaussian mechanism ``V + E`` alone: ``delta_G(mu_G, eps)`` (Balle-Wang Thm 8)."""
        eps = check_nonnegative("epsilon", epsilon)
        return escalate(lambda _p: gaussian_delta_ball(ball(self.mu_sq()).sqrt(), ball(eps)),
                        target or DELTA_TARGET, what="gaussian delta", within=(0, 1))

    #: relative resolution of the eps search: the numerical width for an exact profile, the
    #: search resolution (the bracket is wider than that anyway) for a bracketed one
    _EPS_REL_BRACKET = 1e-3

    def _lower_delta(self, eps: Fraction) -> Fraction:
        """A certified lower bound on ``delta(eps)`` (exact rational)."""
        raise NotImplementedError

    def _upper_delta(self, eps: Fraction) -> Fraction:
        """A certified upper bound on ``delta(eps)`` (exact rational)."""
        raise NotImplementedError

    def _exact(self) -> bool:
        return False

    @property
    def exact_profile(self) -> bool:
        """False when ``delta``/``epsilon`` return a *bracket*: an enclosure of the true value
        whose width is the gap between a lower and an upper method, not numerical error
        (``certify profile`` then reports ``"bracket": true``)."""
        return self._exact()

    def epsilon(self, delta: object, target: Target | None = None) -> Bound:
        """Certified enclosure of ``eps(delta)`` from certified lower/upper bounds of
        ``delta(eps)`` (:func:`certify.wishart.noisy.epsilon_bracket`). For a bracketed profile
        the result is a bracket; its ends are located to a relative resolution of 1e-3."""
        from certify.wishart.noisy import epsilon_bracket

        dlt = check_probability("delta", delta, open_low=True)
        if self._exact():
            rel = 1e-6 if target is None or target.rel is None else max(target.rel, 1e-9)
        else:
            rel = self._EPS_REL_BRACKET
        lower = functools.lru_cache(maxsize=None)(self._lower_delta)
        upper = functools.lru_cache(maxsize=None)(self._upper_delta)
        return epsilon_bracket(lower, upper, dlt, rel=rel)


@dataclass(frozen=True)
class WishartNoisyPost(_Noisy):
    """``V -> MV + E`` for unit ``V, V'`` with alignment ``rho`` (exact parameters; ``d >= 2``,
    ``1 <= r <= d``, ``-1 < rho < 1``, ``sigma > 0``). ``delta`` is a certified bracket."""

    d: int
    r: int
    rho: Fraction
    sigma: Fraction
    name: str = "wishart-noisy-post"

    def __init__(self, d: object, r: object, rho: object, sigma: object) -> None:
        d_, r_, rho_, sigma_ = _params(d, r, rho, sigma)
        object.__setattr__(self, "d", d_)
        object.__setattr__(self, "r", r_)
        object.__setattr__(self, "rho", rho_)
        object.__setattr__(self, "sigma", sigma_)
        object.__setattr__(self, "name", "wishart-noisy-post")

    def params(self) -> dict[str, str]:
        return {"d": str(self.d), "r": str(self.r), "rho": exact_text(self.rho),
                "sigma": exact_text(self.sigma)}

    def bracket(self, epsilon: object) -> ProfileBracket:
        """The :class:`certify.wishart.noisy.ProfileBracket` at ``epsilon``."""
        from certify.wishart.noisy import post_bracket

        eps = check_nonnegative("epsilon", epsilon)
        return post_bracket(self.d, self.r, self.rho, self.sigma, eps)

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """Certified ``[lower, upper]`` containing ``delta(eps)`` (event bound; noise-free
        profile / rotation coupling). ``target`` is not a width goal here: see the module."""
        return self.bracket(epsilon).bound()

    def _lower_delta(self, eps: Fraction) -> Fraction:
        from certify.wishart.noisy_post import event_lower_bound, float_post_threshold

        t, _ = float_post_threshold(self.r, float(self.rho), float(self.sigma), float(eps))
        return Fraction(str(event_lower_bound(self.r, self.rho, self.sigma, eps, t).lower))

    def _upper_delta(self, eps: Fraction) -> Fraction:
        from certify.wishart.noisy import post_bracket

        b = post_bracket(self.d, self.r, self.rho, self.sigma, eps)
        return Fraction(str(b.upper.upper))

    def sample(self, n: object, *, neighbour: int = 0, seed: object = 0,
               backend: str = "numpy", device: object = None,
               method: str = "law") -> FloatArray:
        """``n`` draws for the canonical pair (``neighbour`` 0: ``V``, 1: ``V'``), shape (n, d)."""
        vec = canonical_pair(self.d, self.rho)[_neighbour(neighbour)]
        return sample_noisy_post(vec, self.r, self.sigma, n, seed=seed, backend=backend,
                                 device=device, method=method)


@dataclass(frozen=True)
class WishartNoisyPre(_Noisy):
    """``V -> M(V + E)`` for unit ``V, V'`` with alignment ``rho``; ``release`` is ``"output"``
    (only ``M(V + E)``; ``delta`` is a certified bracket) or ``"matrix"`` (``M`` too; ``delta``
    is the exact profile ``E_beta delta_G(mu sqrt(beta), eps)``, certified)."""

    d: int
    r: int
    rho: Fraction
    sigma: Fraction
    release: str = "output"
    name: str = "wishart-noisy-pre"

    def __init__(self, d: object, r: object, rho: object, sigma: object,
                 release: object = "output") -> None:
        d_, r_, rho_, sigma_ = _params(d, r, rho, sigma)
        object.__setattr__(self, "d", d_)
        object.__setattr__(self, "r", r_)
        object.__setattr__(self, "rho", rho_)
        object.__setattr__(self, "sigma", sigma_)
        object.__setattr__(self, "release", check_choice("release", release, RELEASES))
        object.__setattr__(self, "name", "wishart-noisy-pre")

    def params(self) -> dict[str, str]:
        return {"d": str(self.d), "r": str(self.r), "rho": exact_text(self.rho),
                "sigma": exact_text(self.sigma), "release": self.release}

    def public_delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """The exact profile with ``M`` released (an upper bound for ``release="output"``)."""
        from certify.wishart.noisy import pre_public_delta

        eps = check_nonnegative("epsilon", epsilon)
        return pre_public_delta(self.d, self.r, self.rho, self.sigma, eps, target)

    def bracket(self, epsilon: object) -> ProfileBracket:
        """The :class:`certify.wishart.noisy.ProfileBracket` at ``epsilon`` (output release)."""
        from certify.wishart.noisy import pre_hidden_bracket

        eps = check_nonnegative("epsilon", epsilon)
        return pre_hidden_bracket(self.d, self.r, self.rho, self.sigma, eps)

    def delta(self, epsilon: object, target: Target | None = None) -> Bound:
        """``release="matrix"``: the certified exact profile to ``target``; ``"output"``: the
        certified bracket ``[event lower bound, public-matrix profile]``."""
        if self.release == "matrix":
            return self.public_delta(epsilon, target)
        return self.bracket(epsilon).bound()

    def _exact(self) -> bool:
        return self.release == "matrix"

    def _lower_delta(self, eps: Fraction) -> Fraction:
        if self.release == "matrix":
            return Fraction(str(self.public_delta(eps, Target(rel=1e-9)).lower))
        from certify.wishart.noisy_hidden import float_hidden_threshold, hidden_lower_bound

        x_star, est = float_hidden_threshold(self.d, self.r, float(self.rho),
                                             float(self.sigma), float(eps))
        if not est > 0:
            return Fraction(0)
        low = hidden_lower_bound(self.d, self.r, self.rho, self.sigma, eps, x_star, cells=60,
                                 estimate=est)
        return max(Fraction(str(low.lower)), Fraction(0))

    def _upper_delta(self, eps: Fraction) -> Fraction:
        return Fraction(str(self.public_delta(eps, Target(rel=1e-9)).upper))

    def sample(self, n: object, *, neighbour: int = 0, seed: object = 0,
               backend: str = "numpy", device: object = None,
               method: str = "law") -> FloatArray:
        """``n`` draws of ``M(V + E)`` for the canonical pair, shape (n, d)."""
        vec = canonical_pair(self.d, self.rho)[_neighbour(neighbour)]
        return sample_noisy_pre(vec, self.r, self.sigma, n, seed=seed, backend=backend,
                                device=device, method=method)


def _neighbour(neighbour: object) -> int:
    if isinstance(neighbour, bool) or neighbour not in (0, 1):
        raise InvalidArgument(f"neighbour={neighbour!r} must be 0 or 1.")
    return 1 if neighbour == 1 else 0


# ------------------------------------------------------------------------------------------------
# samplers


def sample_noisy_post(V: object, r: object, sigma: object, size: object, *, seed: object = 0,
                      backend: str = "numpy", device: object = None,
                      method: str = "law") -> FloatArray:
    """``size`` iid draws of ``MV + E`` (``E ~ N(0, sigma^2 I)``), shape ``(size, d)``."""
    v, r_, sig, n, how, src = _sampler_args(V, r, sigma, size, seed, backend, device, method)
    out = np.empty((n, v.size), dtype=np.float64)
    vt = src.tensor(v)
    for start, stop in batches(n, (r_ + 2) * v.size):
        b = stop - start
        mv = _project(src, vt[None, :].repeat(b, 0) if src.backend == "numpy"
                      else vt[None, :].expand(b, -1), r_, how)
        out[start:stop] = src.numpy(mv + sig * src.normal((b, v.size)))
    return out


def sample_noisy_pre(V: object, r: object, sigma: object, size: object, *, seed: object = 0,
                     backend: str = "numpy", device: object = None,
                     method: str = "law") -> FloatArray:
    """``size`` iid draws of ``M(V + E)`` (one fresh ``M`` and ``E`` per draw), shape
    ``(size, d)``."""
    v, r_, sig, n, how, src = _sampler_args(V, r, sigma, size, seed, backend, device, method)
    out = np.empty((n, v.size), dtype=np.float64)
    vt = src.tensor(v)
    for start, stop in batches(n, (r_ + 2) * v.size):
        b = stop - start
        x = vt[None, :] + sig * src.normal((b, v.size))
        out[start:stop] = src.numpy(_project(src, x, r_, how))
    return out


def _project(src: NormalSource, x: Any, r: int, how: str) -> Any:
    """``M x`` row by row with a fresh ``M`` per row: ``"direct"`` draws ``A``; ``"law"`` uses
    ``Mx = ||x|| (s x^ + sqrt(s/r) (Z - (x^ . Z) x^))``, ``s = sum of r squared normals / r``."""
    b, d = x.shape
    if how == "direct":
        a = src.normal((b, r, d)) / math.sqrt(r)
        ax = (a @ x[..., None])[..., 0]
        return (src.transpose(a) @ ax[..., None])[..., 0]
    norm = src.norm(x)
    unit = x / norm[:, None]
    s = (src.normal((b, r)) ** 2).sum(-1) / r
    z = src.normal((b, d))
    z = z - (z * unit).sum(-1)[:, None] * unit
    return norm[:, None] * (s[:, None] * unit + (s / r)[:, None] ** 0.5 * z)


def _sampler_args(V: object, r: object, sigma: object, size: object, seed: object,
                  backend: object, device: object, method: object
                  ) -> tuple[FloatArray, int, float, int, str, NormalSource]:
    v = _real_vector(V)
    _, r_ = check_d_r(v.size, r, min_d=1)
    sig = float(check_positive("sigma", sigma))
    n = check_positive_int("size", size)
    how = check_choice("method", method, METHODS)
    return v, r_, sig, n, how, NormalSource(backend, device, seed)


def _real_vector(value: object) -> FloatArray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"V={value!r} is not a real array.") from None
    if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size < 1:
        raise InvalidArgument(f"V must be a non-empty real 1-D vector (got {arr.dtype}, "
                              f"shape {arr.shape}).")
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise InvalidArgument("V must have finite entries.")
    return out


# ------------------------------------------------------------------------------------------------
# CLI registration


def _required(name: str, params: Mapping[str, str]) -> None:
    missing = [k for k in ("d", "r", "rho", "sigma") if k not in params]
    if missing:
        raise InvalidArgument(
            f"{missing[0]} is required for {name} (e.g. d=64 r=8 rho=0.9 sigma=1)."
        )


def _build_post(params: Mapping[str, str]) -> WishartNoisyPost:
    _required("wishart-noisy-post", params)
    return WishartNoisyPost(params["d"], params["r"], params["rho"], params["sigma"])


def _build_pre(params: Mapping[str, str]) -> WishartNoisyPre:
    _required("wishart-noisy-pre", params)
    return WishartNoisyPre(params["d"], params["r"], params["rho"], params["sigma"],
                           params.get("release", "output"))


register_mechanism(MechanismEntry(
    name="wishart-noisy-post", build=_build_post, parameters=("d", "r", "rho", "sigma"),
    summary="MV + E (project, then add noise): certified bracket [event bound, "
            "min(noise-free profile, rotation coupling)] (seed 000 WPM-7)"))
register_mechanism(MechanismEntry(
    name="wishart-noisy-pre", build=_build_pre,
    parameters=("d", "r", "rho", "sigma", "release"),
    summary="M(V + E) (add noise, then project): exact E_beta delta_G(mu sqrt(beta)) with "
            "release=matrix; certified bracket with release=output (seed 000 WPM-8)"))

