"""Every registered mechanism's ``params()`` (printed in a profile's JSON) rebuilds it through the
registry: a certificate's parameters can be fed back to ``certify profile``."""

from __future__ import annotations

import pytest

from certify.errors import InvalidArgument
from certify.mechanisms.base import build_mechanism, mechanism_names

#: one valid parameter set per built-in mechanism (a new one must be added here)
EXAMPLES = {
    "embedding-release": {"sigma": "2", "aggregation": "mean", "n": "5"},
    "expmech-quadratic": {"clip": "1", "hessian_min": "1", "scale": "1"},
    "gaussian": {"sigma": "2"},
    "subsampled-gaussian": {"sigma": "1", "q": "0.01", "steps": "10"},
    "wishart-noisy-post": {"d": "4", "r": "2", "rho": "0.5", "sigma": "1"},
    "wishart-noisy-pre": {"d": "4", "r": "2", "rho": "0.5", "sigma": "1"},
    "wishart-vector": {"d": "4", "r": "2", "rho": "0.5"},
}


def test_every_mechanism_has_an_example() -> None:
    assert sorted(EXAMPLES) == mechanism_names()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_params_rebuild_the_mechanism(name: str) -> None:
    mech = build_mechanism(name, EXAMPLES[name])
    again = build_mechanism(name, mech.params())
    assert again.params() == mech.params()
    assert type(again) is type(mech)


def test_a_contradicting_derived_parameter_is_refused() -> None:
    params = build_mechanism("embedding-release", EXAMPLES["embedding-release"]).params()
    with pytest.raises(InvalidArgument, match=r"^sensitivity='1/2' is derived"):
        build_mechanism("embedding-release", {**params, "sensitivity": "1/2"})
