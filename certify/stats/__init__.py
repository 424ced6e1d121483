"""Exact and certified statistics for sampled evidence (binomial confidence intervals, ...)."""
