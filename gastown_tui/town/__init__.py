"""The town: layout on disk, settings, identities and addresses, install and rigs (DESIGN §3, §5)."""
