"""The Wishart projection mechanism's exact law and privacy profile (seed 000; WPM-2..4).

* :mod:`certify.wishart.law`: the exact law of ``MV`` and of the privacy loss in the reduced
  coordinates ``(u, W)`` (derivation: ``proofs/wishart_law.py``), the one-dimensional integrands of
  the privacy profile as Arb functions, and float versions used only to steer and to test.
* :mod:`certify.wishart.profile`: certified ``delta(eps)``, ``eps(delta)`` and the floor.
* :mod:`certify.wishart.theorem1`: seed 000's Theorem 1 as printed, its corrected form, and the
  side-by-side comparison with the exact profile.
"""

from certify.wishart.profile import wishart_delta, wishart_epsilon, wishart_floor

__all__ = ["wishart_delta", "wishart_epsilon", "wishart_floor"]
