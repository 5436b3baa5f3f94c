"""Which upstream bd release we follow: `bd --version` and `bd version` both print it."""

from __future__ import annotations

# The upstream bd release whose command-line contract we follow (clients check `bd version`).
UPSTREAM_VERSION = "0.49.6"


def version_line() -> str:
    from gastown_tui import __version__

    return f"bd version {UPSTREAM_VERSION} (gastown-tui {__version__})"
