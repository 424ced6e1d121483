"""certify: numerical certification of differential-privacy claims.

Certified numbers are :class:`Bound` values (outward-rounded decimal enclosures); mechanisms
expose their exact privacy profiles ``delta(eps)`` and ``eps(delta)`` as Bounds.
"""

from certify.errors import CertificateMismatch, CertifyError, Inconclusive, InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

__version__ = "0.1.0"

#: the rest of the public API, imported on first use so that ``import certify`` (and the pytest
#: plugin) stays light: name -> defining module
_LAZY = {
    "SubsampledGaussian": "certify.mechanisms.subsampled",
    "Phase": "certify.accounting.pld",
    "composed_delta": "certify.accounting.pld",
    "composed_epsilon": "certify.accounting.pld",
    "WishartVectorMechanism": "certify.mechanisms.wishart",
    "WishartMatrixMechanism": "certify.mechanisms.wishart",
    "WishartNoisyPre": "certify.mechanisms.wishart_noisy",
    "WishartNoisyPost": "certify.mechanisms.wishart_noisy",
    "QuadraticExpMech": "certify.mechanisms.expmech",
    "EmbeddingRelease": "certify.mechanisms.hypernet",
    "check_accountant": "certify.accountants",
    "audit_scores": "certify.audit",
    "assert_sound": "certify.testing",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'certify' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [  # noqa: RUF022  (the eager names, then the lazy ones)
    "Bound",
    "CertificateMismatch",
    "CertifyError",
    "GaussianMechanism",
    "Inconclusive",
    "InvalidArgument",
    "Target",
    "__version__",
    *_LAZY,
]
