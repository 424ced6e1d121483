"""Compare a peer accountant's reported numbers with a certified enclosure of the truth.

A certified ``Bound`` [L, U] contains the true eps(delta) (or delta(eps)). A peer's report is
inconsistent with it in these ways, each decided exactly (a float is its exact binary value):

* ``lower-above-upper``: a value the peer calls a *lower* bound exceeds U -- it is not a lower
  bound (e.g. prv-accountant 0.2.0 at q = 0.1, sigma = 1, T = 1e4, delta = 1e-5 reports
  eps_lower = 127.934 while the certified enclosure is [127.86, 127.91]; see
  :data:`PRV_LOWER_ABOVE_UPPER`);
* ``upper-below-lower``: a value the peer calls an *upper* bound (or a pessimistic answer, such
  as dp-accounting's PLD or opacus's reported eps) is below L -- it is not an upper bound, i.e.
  the accountant is unsound there;
* ``estimate-below-lower``: a point estimate below L -- it understates the privacy loss (not a
  contract violation for an estimate, but worth reporting).

This is a reusable check for benchmarks and adapters, not a claim; the accountant verification
command (issue 6) has its own verdict policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from certify._validate import check_choice
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound

ROLES = ("lower", "estimate", "upper")
KINDS = ("lower-above-upper", "upper-below-lower", "estimate-below-lower")


@dataclass(frozen=True)
class Finding:
    """One inconsistency: ``peer``'s ``name`` (its ``role``: lower, estimate or upper) reported
    ``value`` against the certified enclosure ``certified``."""

    peer: str
    name: str
    role: str
    value: float
    certified: Bound
    kind: str

    def describe(self) -> str:
        return (f"{self.peer}.{self.name} = {self.value!r} ({self.role}) vs certified "
                f"[{self.certified.lower}, {self.certified.upper}]: {self.kind}")


def peer_findings(certified: Bound, answers: dict[str, float], roles: dict[str, str],
                  peer: str) -> list[Finding]:
    """The inconsistencies of a peer's ``answers`` (name -> reported value) with ``certified``;
    ``roles`` maps each name to ``lower``, ``estimate`` or ``upper``. A non-finite value (a peer
    answering inf or nan) is never an inconsistency by itself: inf is a valid upper bound and
    nan claims nothing."""
    if not isinstance(certified, Bound):
        raise InvalidArgument(f"certified={certified!r} must be a Bound.")
    out = []
    for name, value in answers.items():
        role = check_choice(f"roles[{name!r}]", roles.get(name), ROLES)
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            continue
        if role == "lower" and certified.lt(v) is True:
            out.append(Finding(peer, name, role, v, certified, "lower-above-upper"))
        elif role == "upper" and certified.gt(v) is True:
            out.append(Finding(peer, name, role, v, certified, "upper-below-lower"))
        elif role == "estimate" and certified.gt(v) is True:
            out.append(Finding(peer, name, role, v, certified, "estimate-below-lower"))
    return out


#: The recorded prv-accountant finding: (sigma, q, T, delta) and its reported eps_lower.
PRV_LOWER_ABOVE_UPPER = {"peer": "prv-accountant 0.2.0 (eps_error=0.01)", "sigma": "1",
                         "q": "0.1", "steps": 10_000, "delta": "1e-5", "eps_lower": 127.934}


__all__ = ["KINDS", "PRV_LOWER_ABOVE_UPPER", "ROLES", "Finding", "peer_findings"]
