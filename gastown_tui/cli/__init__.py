"""The `gt` and `bd` command trees (argparse, imported lazily to keep startup fast)."""
