"""The beads issue store: a bd-compatible git-and-JSONL store (DESIGN §4)."""
