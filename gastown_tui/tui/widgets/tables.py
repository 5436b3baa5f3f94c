"""Keyed DataTable updates: rows change in place and the cursor stays on the same key."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


def sync_table(table: DataTable, rows: Sequence[tuple[str, Sequence]]) -> None:
    """Make `table` show `rows` ((key, cells) in order) without losing the cursor's row.

    Cells are data: strings are shown literally (never as markup) and without control characters.
    """
    from gastown_tui.tui.safe import cell as safe_cell

    rows = [(k, [safe_cell(c) for c in cells]) for k, cells in rows]
    keys = [k for k, _ in rows]
    current = [rk.value for rk in table.rows]
    if keys == current:
        columns = list(table.columns)
        for key, cells in rows:
            old = table.get_row(key)
            for i, cell in enumerate(cells):
                if i < len(old) and str(old[i]) != str(cell) or (i < len(old) and getattr(old[i], "spans", None) != getattr(cell, "spans", None)):
                    table.update_cell(key, columns[i], cell)
        return
    cursor_key = current[table.cursor_row] if current and 0 <= table.cursor_row < len(current) else None
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if cursor_key in keys:
        table.move_cursor(row=keys.index(cursor_key), animate=False)


def cursor_key(table: DataTable) -> str | None:
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # noqa: BLE001 - empty or out of range
        return None
