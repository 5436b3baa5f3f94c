"""Agents: runtime presets, session lifecycle, name pools, prime templates, the status engine."""
