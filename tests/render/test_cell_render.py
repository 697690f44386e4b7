"""The queue table paints its cells itself (``TicketTable._render_cell``), without DataTable's
``Styled(Padding(cell))``: what it paints must be what DataTable paints, cell for cell, for
every kind of text a cell holds (wide characters, emoji, a subject cut with an ellipsis, styled
spans, the cursor row, the SLA colours). DataTable's own rendering is the oracle."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import on_all_open
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.ticket_table import TicketTable

ODD_CELLS = [
    Text(""),
    Text("x"),
    Text("exactly ten"),
    Text("a subject much longer than any column it could be shown in, by far"),
    Text("日本語の件名です、長いです", no_wrap=True, overflow="ellipsis"),
    Text("日本語の件名です、長いです"),
    Text("Émojis 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉", overflow="ellipsis"),
    Text("ab日", overflow="crop"),
    Text.assemble(("↩ ", "bold"), ("styled ", "red on blue"), ("spans", "italic underline")),
    Text("whole style", style="reverse"),
    Text("hello wonderful world", no_wrap=False),
    Text("ignored overflow", overflow="ignore"),
    Text("ab", overflow="ellipsis"),
]


def simple(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None]]]:
    """Lines as (text, style) runs: how a cell looks, not how Rich split it into segments."""
    return [[(s.text, s.style) for s in Segment.simplify(line)] for line in lines]


def both(
    table: TicketTable, row: int, column: int, style: Style, cursor: bool, width: int = 0
) -> tuple[Any, Any]:
    """The cell as ours paints it and as DataTable paints it (at the column's width, or
    ``width``)."""
    width = width or table.ordered_columns[column].get_render_width(table)
    table._cell_render_cache.clear()
    ours = table._render_cell(row, column, style, width, cursor)
    table._cell_render_cache.clear()
    theirs = DataTable._render_cell(table, row, column, style, width, cursor)
    table._cell_render_cache.clear()
    return simple(ours), simple(theirs)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 40)])
async def test_every_cell_paints_as_datatable_paints_it(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        table = (await on_all_open(pilot)).table
        rows = min(table.row_count, 12)
        assert rows > 2
        # The cells as the queue fills them, on plain, coloured and cursor rows.
        for row in range(rows):
            style = table._get_row_style(row, Style(color="white", bgcolor="black"))
            for column in range(len(table.ordered_columns)):
                for cursor in (False, True):
                    ours, theirs = both(table, row, column, style, cursor)
                    assert ours == theirs, (row, column, cursor)
        # Text no ticket of the demo has, in every column's width.
        row_key = table._row_locations.get_key(0)
        assert row_key is not None
        for column, spec in enumerate(table.ordered_columns):
            for text in ODD_CELLS:
                table.update_cell(row_key, spec.key, text)
                for cursor in (False, True):
                    ours, theirs = both(table, 0, column, Style(bold=True), cursor)
                    assert ours == theirs, (text.plain, spec.key, cursor)
                for width in (1, 2, 3, 4):  # narrower than any column: the padding's edge
                    ours, theirs = both(table, 0, column, Style(bold=True), False, width)
                    assert ours == theirs, (text.plain, spec.key, width)


async def test_the_demo_queue_is_painted_without_datatables_cell_renderer(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above compares with DataTable's renderer; this one checks ours is what
    paints the queue's rows (the header aside): DataTable's is asked for header cells only."""
    asked: list[int] = []
    datatable = DataTable._render_cell

    def spy(self: Any, row: int, *args: Any, **kwargs: Any) -> Any:
        asked.append(row)
        return datatable(self, row, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", spy)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        assert (await on_all_open(pilot)).table.row_count > 10
    assert asked and set(asked) == {-1}
