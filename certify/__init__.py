"""certify: numerical certification of differential-privacy claims.

Certified numbers are :class:`Bound` values (outward-rounded decimal enclosures); mechanisms
expose their exact privacy profiles ``delta(eps)`` and ``eps(delta)`` as Bounds.
"""

from certify.errors import CertificateMismatch, CertifyError, Inconclusive, InvalidArgument
from certify.mechanisms.gaussian import GaussianMechanism
from certify.numerics.bound import Bound
from certify.numerics.precision import Target

__version__ = "0.1.0"

__all__ = [
    "Bound",
    "CertificateMismatch",
    "CertifyError",
    "GaussianMechanism",
    "Inconclusive",
    "InvalidArgument",
    "Target",
    "__version__",
]
