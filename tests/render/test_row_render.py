"""The queue table paints its body rows itself (``TicketTable._row_line``): one run of text per
row, straight from the cells, without DataTable's per-cell segments and strips. What it paints
must be what DataTable paints (its runs merged as the table merges them), line for line, with
the same looks and the same row metadata (a click picks the row): on plain, coloured,
selected and cursor rows, scrolled, at every width, and for every kind of text a cell holds.
DataTable's own ``render_line`` is the oracle."""

from __future__ import annotations

import types
from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import on_all_open, settle
from rich.text import Text
from test_cell_render import ODD_CELLS
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.ticket_table import TicketTable, _merge_runs


def runs(strip: Any) -> list[tuple[str, Any]]:
    return [(segment.text, segment.style) for segment in strip]


def datatables_line(table: TicketTable, y: int) -> list[tuple[str, Any]]:
    """Line ``y`` as DataTable paints it all the way down (its own cell renderer too, not the
    table's ``_render_cell``), its runs merged as the table merges them; no cache of either."""
    table._clear_caches()
    table._render_cell = types.MethodType(DataTable._render_cell, table)  # type: ignore[method-assign]
    try:
        return runs(_merge_runs(DataTable.render_line(table, y)))
    finally:
        del table._render_cell
        table._clear_caches()


def every_line_as_datatable_paints_it(table: TicketTable) -> int:
    """Compare every line on screen; the number of body lines compared."""
    body = 0
    for y in range(table.size.height):
        ours = runs(table.render_line(y))
        theirs = datatables_line(table, y)
        assert ours == theirs, (y, ours, theirs)
        body += table._row_line(y) is not None
    return body


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40), (160, 40)])
async def test_every_row_paints_as_datatable_paints_it(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        table = (await on_all_open(pilot)).table
        assert table.row_count > 5
        assert every_line_as_datatable_paints_it(table) >= min(table.row_count, 5)
        # A selected row (its mark is not ASCII), the cursor elsewhere, the table scrolled.
        await pilot.press("space", "j", "j")
        await settle(pilot)
        assert "●" in "".join(s.text for s in table.render_line(1))
        every_line_as_datatable_paints_it(table)
        await pilot.press("G")
        await settle(pilot)
        every_line_as_datatable_paints_it(table)
        await pilot.press("g")
        await settle(pilot)
        # Text no ticket of the demo has, in every column (styled ones go DataTable's way).
        row_key = table._row_locations.get_key(0)
        assert row_key is not None
        for spec in table.ordered_columns:
            for text in ODD_CELLS:
                table.update_cell(row_key, spec.key, text)
                every_line_as_datatable_paints_it(table)
            table.update_cell(row_key, spec.key, Text("plain again"))
        # A narrow terminal cuts the row: a decomposed accent, then a zero-width space, just
        # after the cut stay with the character before it.
        start, edge = 0, table.size.width
        for spec in table.ordered_columns:
            width = spec.get_render_width(table)
            if start < edge < start + width:
                shown = edge - start - table.cell_padding
                for mark in ("\u0301", "\u200b"):
                    text = Text("x" * (shown - 1) + "e" + mark + "yyyyyyyy")
                    table.update_cell(row_key, spec.key, text)
                    every_line_as_datatable_paints_it(table)
                table.update_cell(row_key, spec.key, Text("plain again"))
            start += width
        # The table narrower than the widget: DataTable extends each row's look to the edge.
        excess = sum(c.get_render_width(table) for c in table.ordered_columns) - table.size.width
        for column in (table.columns[ColumnKey("subject")], table.ordered_columns[-1]):
            cut = min(column.width - 1, excess + 4)
            column.width -= cut
            excess -= cut
        table._clear_caches()
        assert sum(c.get_render_width(table) for c in table.ordered_columns) < table.size.width
        every_line_as_datatable_paints_it(table)
        # Another widget focused (the cursor's blurred look), then no cursor at all.
        app.set_focus(None)
        await pilot.pause()
        assert not table.has_focus
        every_line_as_datatable_paints_it(table)
        table.show_cursor = False
        every_line_as_datatable_paints_it(table)


async def test_the_queues_rows_are_painted_without_datatables_line_renderer(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above compares with DataTable's renderer; this one checks ours is what paints
    the queue's rows: DataTable's is asked for the header line only (and for the blank lines
    below the rows)."""
    asked: list[int] = []
    datatable = DataTable.render_line

    def spy(self: Any, y: int) -> Any:
        if isinstance(self, TicketTable) and y < self.header_height + self.row_count:
            asked.append(y)  # a row of the table (the blank lines below are DataTable's)
        return datatable(self, y)

    monkeypatch.setattr(DataTable, "render_line", spy)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        table = (await on_all_open(pilot)).table
        assert table.row_count > 10
        await pilot.press("j", "space")
        await settle(pilot)
    assert asked and set(asked) == {0}
