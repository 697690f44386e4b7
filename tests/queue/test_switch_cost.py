"""What a view switch computes (issue 29: the new rows painted in < 50 ms).

Switching from All open to Mine hides the Assignee column (it would name me on every row). The
table used to rebuild its columns with the rows it was about to replace, each added with
``add_row``, and then replace them: every row of both views was made into cells. Now the rows
of the new view are made once, and swapped in together.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import on_all_open, settle
from textual.widgets import DataTable

from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.ticket_table import TicketTable


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_switch_that_hides_the_assignee_column_makes_each_new_row_once(
    demo_store: TicketStore,
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        queue = await on_all_open(pilot)
        table = queue.query_one(TicketTable)
        assert "assignee" in [c.key.value for c in table.ordered_columns]
        all_open = table.row_count
        made: list[str] = []
        added = 0
        cells = TicketTable._cells
        add_row = DataTable.add_row

        def counted_cells(self: TicketTable, key: str, ticket: Any) -> Any:
            made.append(key)
            return cells(self, key, ticket)

        def counted_add_row(self: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal added
            added += 1
            return add_row(self, *args, **kwargs)

        monkeypatch.setattr(TicketTable, "_cells", counted_cells)
        monkeypatch.setattr(DataTable, "add_row", counted_add_row)
        await pilot.press("1")  # Mine
        await settle(pilot)
        assert queue.view_index == 0
        assert "assignee" not in [c.key.value for c in table.ordered_columns]
        mine = table.row_count
        assert 0 < mine < all_open
        assert sorted(made) == sorted(table.tickets)  # each row of Mine, once; none of All open
        assert added == 0  # swapped in together
        assert table.current is not None  # the cursor is on a row of the new view
