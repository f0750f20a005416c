"""A DataTable keyed by the database primary key that applies diffs instead of refilling."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.coordinate import Coordinate
from textual.widgets import DataTable


class ResourceTable(DataTable):
    """`apply(rows)` adds, updates and removes rows by key, keeping the cursor on its key.

    A column is `(key, label)`, sized to its content, or `(key, label, width)`: a fixed width
    for cells whose text changes length as a row moves on (a job's state, PENDING to
    SUCCEEDED), so the column neither jumps nor cuts. Other cells widen their column when an
    update makes them longer (DataTable's own update_cell keeps the first width and cuts)."""

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[tuple[str, str] | tuple[str, str, int]],
                 **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_keys = [column[0] for column in columns]
        self._columns_spec = columns
        self._cells: dict[str, tuple] = {}

    def on_mount(self) -> None:
        for key, label, *width in self._columns_spec:
            self.add_column(label, key=key, width=width[0] if width else None)

    def _update_dimensions(self, new_rows) -> None:
        # DataTable measures new rows when idle but keeps lines it painted before that (at the
        # labels' widths) unless a row has auto height: drop them, or the table shows cut
        # cells until its next change.
        super()._update_dimensions(new_rows)
        self._clear_caches()
        self.refresh()

    def update_cell(self, row_key, column_key, value, *, update_width: bool = True):
        return super().update_cell(row_key, column_key, value, update_width=update_width)

    @property
    def row_keys(self) -> list[str]:
        return list(self._cells)

    @property
    def selected_key(self) -> str | None:
        if not self._cells or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except Exception:
            return None

    def clear_rows(self) -> None:
        """Forget every row: for a change of what the keys mean (e.g. another grouping)."""
        self.clear()
        self._cells.clear()

    def apply(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        selected = self.selected_key
        incoming = {key: tuple(cells) for key, cells in rows}
        for key in [k for k in self._cells if k not in incoming]:
            self.remove_row(key)
            del self._cells[key]
        for key, cells in incoming.items():
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old != cells:
                for column, (before, after) in zip(self._column_keys, zip(old, cells, strict=True), strict=True):
                    if before != after:
                        self.update_cell(key, column, after)
            self._cells[key] = cells
        if selected in self._cells:
            self.move_cursor(row=self.get_row_index(selected))
