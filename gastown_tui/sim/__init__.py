"""The sim agent: a scripted stand-in for a coding-agent CLI (DESIGN §9)."""
