"""Shared test settings: a fixed hypothesis profile (deterministic, no deadline: certified
numerics at escalated precision have a long tail of run times)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "certify",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("certify")
