"""Experiments that claims rely on (training dynamics, attacks): seeded, CPU-sized by default."""
