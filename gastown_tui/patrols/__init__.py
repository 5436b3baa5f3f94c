"""Deterministic supervisors: daemon and boot, deacon, witness, refinery."""
