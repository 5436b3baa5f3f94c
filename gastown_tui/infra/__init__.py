"""The only layer that runs tmux and git, watches files, and owns the clock and locks."""
