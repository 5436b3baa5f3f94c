"""Gas Town in Python: a fleet of AI coding agents in tmux, steered from a terminal cockpit."""

__version__ = "0.1.0"
