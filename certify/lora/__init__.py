"""LoRA as implicit DP-SGD (seed 001, claims LDP-1..8): the exact law of the injected noise,
the JL clipping step, the privacy of the LoRA update."""
