"""Accountants under test: the :class:`Adapter` value, the built-in adapters to peer libraries,
and ``module:function`` targets.

An accountant is checked through up to three forms (each optional, at least one present):

* ``epsilon(*, noise_multiplier, sample_rate, steps, delta) -> float``: the epsilon it reports
  for ``steps`` Poisson-subsampled Gaussian steps at ``delta``; by default claimed as an *upper*
  bound on the true epsilon (``bound="lower"`` when it is claimed as a lower bound);
* ``delta_for_epsilon(*, noise_multiplier, sample_rate, steps, epsilon) -> float``: the delta it
  reports at ``epsilon`` (an upper bound on the true delta);
* ``rdp(*, noise_multiplier, sample_rate, orders) -> sequence of floats``: its Renyi DP of *one*
  step at each order (an upper bound on the true RDP, the maximum over add and remove).

Built-in adapters (extra ``accountants``, pinned versions; each imports its library lazily):

==========================  ==================================================================
``opacus-rdp``              opacus 1.6.0 ``RDPAccountant`` (default orders; Balle et al. 2020
                            conversion) and ``compute_rdp`` for the RDP-level check
``opacus-prv``              opacus 1.6.0 ``PRVAccountant`` (eps_error 0.01; returns its upper)
``opacus-gdp``              opacus 1.6.0 ``GaussianAccountant`` (CLT / Gaussian DP, Poisson;
                            documented as able to underestimate: checked as a claim all the same)
``dp-accounting-pld``       dp-accounting 0.6.0 ``PLDAccountant`` (default discretisation 1e-4,
                            pessimistic), epsilon and delta forms
``dp-accounting-rdp``       dp-accounting 0.6.0 ``RdpAccountant`` (default orders), and its RDP
``dp-accounting-gaussian``  dp-accounting 0.6.0 ``get_epsilon_gaussian`` (analytic Gaussian,
                            Balle and Wang 2018) of the *unsampled* composition sigma/sqrt(T):
                            subsampling only helps, so this is a valid upper bound for every
                            q and exact for q = 1 (the only case it is designed for)
``prv-accountant``          prv-accountant 0.2.0 ``PRVAccountant`` upper bound (eps_error 0.01,
                            delta_error delta/1000), epsilon and delta forms
``prv-accountant-lower``    the same accountant's *lower* bound, checked as a lower bound
``autodp-rdp``              autodp 0.2.3.1 ``SubsampleGaussianMechanism`` (RDP,
                            Zhu and Wang 2019 Poisson-sampling bound), and its one-step RDP
``autodp-gaussian``         autodp 0.2.3.1 ``get_eps_ana_gaussian`` of sigma/sqrt(T) (as above)
``fourier-accountant``      fourier-accountant 0.12.11 (Koskela, Jalko, Honkela 2020, the
                            successor of pld-accountant) ``get_epsilon_R`` / ``get_delta_R``
                            with its defaults (nx = 10^6, L = 20)
==========================  ==================================================================

Not built in: autodp's characteristic-function (phi) accountant fails in autodp 0.2.3.1 with
current scipy (``scipy.integrate.quadrature`` was removed in scipy 1.15, and its
``SubsampleGaussianMechanism(phi_off=False)`` reads a ``params['gamma']`` it never sets);
pld-accountant 0.12.1 is the same code as fourier-accountant, renamed (both install the module
``fourier_accountant``); prv-accountant's *estimate* is not claimed as a bound by its authors.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from certify.errors import InvalidArgument

EpsilonFn = Callable[..., float]
DeltaFn = Callable[..., float]
RdpFn = Callable[..., Sequence[float]]
BOUNDS = ("upper", "lower")


@dataclass(frozen=True)
class Adapter:
    """An accountant under test (module docstring for the three forms)."""

    name: str
    epsilon: EpsilonFn | None = None
    delta_for_epsilon: DeltaFn | None = None
    rdp: RdpFn | None = None
    bound: str = "upper"
    description: str = ""
    library: str | None = None  #: the PyPI distribution, for its version
    pinned: str | None = None  #: the version the built-in adapter is written and pinned for

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]*",
                                                             self.name):
            raise InvalidArgument(f"name={self.name!r} must be a non-empty [A-Za-z0-9._:-] name.")
        if self.epsilon is None and self.delta_for_epsilon is None and self.rdp is None:
            raise InvalidArgument(
                f"accountant={self.name!r} has none of epsilon, delta_for_epsilon, rdp.")
        if self.bound not in BOUNDS:
            raise InvalidArgument(f"bound={self.bound!r} must be one of: upper, lower.")
        if self.bound == "lower" and (self.delta_for_epsilon or self.rdp):
            raise InvalidArgument("bound='lower' applies to the epsilon form only.")

    @property
    def version(self) -> str | None:
        """The installed version of :attr:`library` (None when unknown or not installed)."""
        if self.library is None:
            return None
        try:
            return metadata.version(self.library)
        except metadata.PackageNotFoundError:
            return None

    def forms(self) -> list[str]:
        """The forms present: ``epsilon``, ``delta``, ``rdp``."""
        return [f for f, fn in (("epsilon", self.epsilon), ("delta", self.delta_for_epsilon),
                                ("rdp", self.rdp)) if fn is not None]


def from_callable(obj: object, name: str | None = None) -> Adapter:
    """An :class:`Adapter` for a user's accountant.

    ``obj`` is an :class:`Adapter` (returned as is) or a callable. A callable taking a keyword
    ``delta`` is the epsilon form; one taking ``epsilon`` (and no ``delta``) the delta form.
    Optional attributes on the callable add forms: ``delta_for_epsilon``, ``rdp``, and
    ``bound = "lower"`` marks the epsilon form as a lower bound.
    """
    if isinstance(obj, Adapter):
        return obj
    if not callable(obj):
        raise InvalidArgument(f"accountant={obj!r} must be callable.")
    label = name or getattr(obj, "__qualname__", None) or type(obj).__name__
    label = re.sub(r"[^A-Za-z0-9._:-]+", "-", str(label)).strip("-") or "accountant"
    try:
        params = set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        params = {"delta"}
    eps_fn: EpsilonFn | None = None
    delta_fn: DeltaFn | None = getattr(obj, "delta_for_epsilon", None)
    if "delta" in params or ("epsilon" not in params):
        eps_fn = obj
    elif delta_fn is None:
        delta_fn = obj
    rdp_fn = getattr(obj, "rdp", None)
    bound = getattr(obj, "bound", "upper")
    for attr, fn in (("delta_for_epsilon", delta_fn), ("rdp", rdp_fn)):
        if fn is not None and not callable(fn):
            raise InvalidArgument(f"accountant.{attr}={fn!r} must be callable.")
    return Adapter(label, eps_fn, delta_fn, rdp_fn, bound if isinstance(bound, str) else "upper",
                   description=(inspect.getdoc(obj) or "").split("\n")[0])


def load_target(spec: object) -> Adapter:
    """The accountant named by ``spec``: an :class:`Adapter`, a callable, a built-in adapter
    name (:data:`BUILTIN`) or ``"module:attribute"`` (dotted attributes allowed; modules of the
    working directory are importable, as with ``python -m``)."""
    if isinstance(spec, Adapter):
        return spec
    if not isinstance(spec, str):
        return from_callable(spec)
    if spec in BUILTIN:
        return builtin(spec)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgument(
            f"target={spec!r} is neither a built-in adapter ({', '.join(BUILTIN)}) "
            "nor module:function."
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules of the working directory
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgument(f"target={spec!r}: module {module_name!r} cannot be imported "
                              f"({exc}).") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InvalidArgument(f"target={spec!r}: {module_name} has no attribute {attr!r}.")
        obj = getattr(obj, part)
    return from_callable(obj, name=spec)


# -- built-in adapters ---------------------------------------------------------------------------
#: name -> (PyPI distribution, pinned version, factory)
BUILTIN: dict[str, tuple[str, str, Callable[[], Adapter]]] = {}


def _builtin(name: str, library: str, pinned: str) -> Callable[[Callable[[], Adapter]],
                                                               Callable[[], Adapter]]:
    def wrap(factory: Callable[[], Adapter]) -> Callable[[], Adapter]:
        BUILTIN[name] = (library, pinned, factory)
        return factory
    return wrap


def builtin(name: str) -> Adapter:
    """The built-in adapter ``name``; :class:`InvalidArgument` when its library is missing."""
    if name not in BUILTIN:
        raise InvalidArgument(f"adapter={name!r} must be one of: {', '.join(BUILTIN)}.")
    library, pinned, factory = BUILTIN[name]
    try:
        return factory()
    except ImportError as exc:
        raise InvalidArgument(
            f"adapter={name!r} needs {library}=={pinned} (pip install 'certify-dp[accountants]'):"
            f" {exc}") from None


def available_builtins() -> list[str]:
    """The built-in adapters whose libraries import here."""
    out = []
    for name in BUILTIN:
        try:
            builtin(name)
        except InvalidArgument:
            continue
        out.append(name)
    return out


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Silence the peers' warnings (deprecations, "optimal order is the largest alpha")."""
    def call(**kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(**kwargs)
    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = fn.__doc__
    return call


def _adapter(name: str, description: str, epsilon: EpsilonFn | None = None,
             delta_for_epsilon: DeltaFn | None = None, rdp: RdpFn | None = None,
             bound: str = "upper") -> Adapter:
    library, pinned, _ = BUILTIN[name]
    return Adapter(name, epsilon=_quiet(epsilon) if epsilon else None,
                   delta_for_epsilon=_quiet(delta_for_epsilon) if delta_for_epsilon else None,
                   rdp=_quiet(rdp) if rdp else None, bound=bound, description=description,
                   library=library, pinned=pinned)


@_builtin("opacus-rdp", "opacus", "1.6.0")
def _opacus_rdp() -> Adapter:
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis.rdp import compute_rdp

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        acc = RDPAccountant()
        acc.history = [(noise_multiplier, sample_rate, steps)]
        return float(acc.get_epsilon(delta))

    def rdp(*, noise_multiplier: float, sample_rate: float,
            orders: Sequence[float]) -> list[float]:
        values = compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=1,
                             orders=list(orders))
        return [float(v) for v in values]

    return _adapter("opacus-rdp", "opacus RDPAccountant (default orders)", epsilon=eps, rdp=rdp)


@_builtin("opacus-prv", "opacus", "1.6.0")
def _opacus_prv() -> Adapter:
    from opacus.accountants import PRVAccountant

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        acc = PRVAccountant()
        acc.history = [(noise_multiplier, sample_rate, steps)]
        return float(acc.get_epsilon(delta))

    return _adapter("opacus-prv", "opacus PRVAccountant (eps_error 0.01, its upper bound)",
                    epsilon=eps)


@_builtin("opacus-gdp", "opacus", "1.6.0")
def _opacus_gdp() -> Adapter:
    from opacus.accountants import GaussianAccountant

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc = GaussianAccountant()
        acc.history = [(noise_multiplier, sample_rate, steps)]
        return float(acc.get_epsilon(delta, poisson=True))

    return _adapter("opacus-gdp", "opacus GaussianAccountant (Gaussian DP, CLT, Poisson)",
                    epsilon=eps)


def _dpa_event(noise_multiplier: float, sample_rate: float, steps: int) -> Any:
    import dp_accounting

    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(sample_rate,
                                            dp_accounting.GaussianDpEvent(noise_multiplier)),
        steps)


@_builtin("dp-accounting-pld", "dp-accounting", "0.6.0")
def _dpa_pld() -> Adapter:
    from dp_accounting.pld import pld_privacy_accountant

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        acc = pld_privacy_accountant.PLDAccountant()
        acc.compose(_dpa_event(noise_multiplier, sample_rate, steps))
        return float(acc.get_epsilon(delta))

    def dlt(*, noise_multiplier: float, sample_rate: float, steps: int, epsilon: float) -> float:
        acc = pld_privacy_accountant.PLDAccountant()
        acc.compose(_dpa_event(noise_multiplier, sample_rate, steps))
        return float(acc.get_delta(epsilon))

    return _adapter("dp-accounting-pld", "dp-accounting PLDAccountant (discretisation 1e-4)",
                    epsilon=eps, delta_for_epsilon=dlt)


@_builtin("dp-accounting-rdp", "dp-accounting", "0.6.0")
def _dpa_rdp() -> Adapter:
    import dp_accounting
    from dp_accounting.rdp import rdp_privacy_accountant

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        acc = rdp_privacy_accountant.RdpAccountant()
        acc.compose(_dpa_event(noise_multiplier, sample_rate, steps))
        return float(acc.get_epsilon(delta))

    def rdp(*, noise_multiplier: float, sample_rate: float,
            orders: Sequence[float]) -> list[float]:
        acc = rdp_privacy_accountant.RdpAccountant(orders=list(orders))
        acc.compose(dp_accounting.PoissonSampledDpEvent(
            sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier)))
        return [float(v) for v in acc.rdp]

    return _adapter("dp-accounting-rdp", "dp-accounting RdpAccountant (default orders)",
                    epsilon=eps, rdp=rdp)


@_builtin("dp-accounting-gaussian", "dp-accounting", "0.6.0")
def _dpa_gaussian() -> Adapter:
    from dp_accounting import gaussian_mechanism

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return float(gaussian_mechanism.get_epsilon_gaussian(
            noise_multiplier / math.sqrt(steps), delta))

    return _adapter("dp-accounting-gaussian",
                    "dp-accounting analytic Gaussian of sigma/sqrt(T) (ignores subsampling)",
                    epsilon=eps)


@functools.lru_cache(maxsize=1)
def _prv(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> Any:
    """prv-accountant's accountant (eps_error 0.01, delta_error delta/1000, as its deprecated
    ``Accountant`` and our benchmark set them). The last one is kept: building it is the
    expensive part (minutes and gigabytes at T = 10^4 and large eps), and the epsilon and delta
    forms of one cell share it; :func:`_prv_epsilon` keeps the answers for the lower-bound
    adapter."""
    from prv_accountant import PoissonSubsampledGaussianMechanism, PRVAccountant

    prv = PoissonSubsampledGaussianMechanism(sampling_probability=sample_rate,
                                             noise_multiplier=noise_multiplier)
    return PRVAccountant(prvs=[prv], eps_error=0.01, delta_error=delta / 1000,
                         max_self_compositions=[steps])


@functools.lru_cache(maxsize=64)
def _prv_epsilon(noise_multiplier: float, sample_rate: float, steps: int,
                 delta: float) -> tuple[float, float, float]:
    lower, estimate, upper = _prv(noise_multiplier, sample_rate, steps, delta).compute_epsilon(
        delta, [steps])
    return float(lower), float(estimate), float(upper)


@_builtin("prv-accountant", "prv-accountant", "0.2.0")
def _prv_upper() -> Adapter:
    import prv_accountant  # noqa: F401  (import check)

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return _prv_epsilon(noise_multiplier, sample_rate, steps, delta)[2]

    def dlt(*, noise_multiplier: float, sample_rate: float, steps: int, epsilon: float) -> float:
        # delta_error 1e-8: a thousandth of the deltas near 1e-5 asked about
        _, _, upper = _prv(noise_multiplier, sample_rate, steps, 1e-5).compute_delta(
            epsilon, [steps])
        return float(upper)

    return _adapter("prv-accountant", "prv-accountant PRVAccountant upper bound (eps_error 0.01)",
                    epsilon=eps, delta_for_epsilon=dlt)


@_builtin("prv-accountant-lower", "prv-accountant", "0.2.0")
def _prv_lower() -> Adapter:
    import prv_accountant  # noqa: F401  (import check)

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return _prv_epsilon(noise_multiplier, sample_rate, steps, delta)[0]

    return _adapter("prv-accountant-lower",
                    "prv-accountant PRVAccountant lower bound (eps_error 0.01)", epsilon=eps,
                    bound="lower")


@_builtin("autodp-rdp", "autodp", "0.2.3.1")
def _autodp_rdp() -> Adapter:
    from autodp import transformer_zoo
    from autodp.mechanism_zoo import GaussianMechanism, SubsampleGaussianMechanism

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        mech = SubsampleGaussianMechanism({"prob": sample_rate, "sigma": noise_multiplier,
                                           "coeff": steps})
        return float(mech.get_approxDP(delta))

    def rdp(*, noise_multiplier: float, sample_rate: float,
            orders: Sequence[float]) -> list[float]:
        sub = transformer_zoo.AmplificationBySampling()(
            GaussianMechanism(sigma=noise_multiplier), sample_rate, improved_bound_flag=True)
        return [float(sub.RenyiDP(a)) for a in orders]

    return _adapter("autodp-rdp", "autodp SubsampleGaussianMechanism (RDP)", epsilon=eps,
                    rdp=rdp)


@_builtin("autodp-gaussian", "autodp", "0.2.3.1")
def _autodp_gaussian() -> Adapter:
    from autodp import dp_bank

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return float(dp_bank.get_eps_ana_gaussian(noise_multiplier / math.sqrt(steps), delta))

    return _adapter("autodp-gaussian",
                    "autodp analytic Gaussian of sigma/sqrt(T) (ignores subsampling)",
                    epsilon=eps)


@_builtin("fourier-accountant", "fourier-accountant", "0.12.11")
def _fourier() -> Adapter:
    import fourier_accountant

    def eps(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
        return float(fourier_accountant.get_epsilon_R(target_delta=delta, sigma=noise_multiplier,
                                                      q=sample_rate, ncomp=steps))

    def dlt(*, noise_multiplier: float, sample_rate: float, steps: int, epsilon: float) -> float:
        return float(fourier_accountant.get_delta_R(target_eps=epsilon, sigma=noise_multiplier,
                                                    q=sample_rate, ncomp=steps))

    return _adapter("fourier-accountant", "fourier-accountant get_epsilon_R (nx=1e6, L=20)",
                    epsilon=eps, delta_for_epsilon=dlt)


__all__ = ["BOUNDS", "BUILTIN", "Adapter", "available_builtins", "builtin", "from_callable",
           "load_target"]
