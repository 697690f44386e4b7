"""Quiet on the wire (issue 18): what the queue repaints, since every repainted cell crosses
the agent's SSH link. Each test records every ``Widget.refresh`` (the regions a widget asks to
repaint; the terminal gets only those) around one event, with the clock fixed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import settle
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widget import Widget

from helpdesk_tui.domain.models import Priority
from helpdesk_tui.screens.queue import QueueScreen, ViewBar
from helpdesk_tui.widgets.ticket_table import TicketTable

Repaint = tuple[Widget, tuple[Region, ...]]


@pytest.fixture
def repaints(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Repaint]]:
    seen: list[Repaint] = []
    original = Widget.refresh

    def refresh(self: Widget, *regions: Region, **kwargs: Any) -> Widget:
        seen.append((self, regions))
        return original(self, *regions, **kwargs)

    monkeypatch.setattr(Widget, "refresh", refresh)
    yield seen


def cell_region(table: TicketTable, row: int, column: str) -> Region:
    return table._get_cell_region(Coordinate(row, table.get_column_index(column)))


def row_region(table: TicketTable, row: int) -> Region:
    header = table.header_height
    return Region(0, header + row, table.scrollable_content_region.width, 1)


async def test_countdown_cell_repaints_exactly_when_its_minute_turns_and_nothing_else(
    make_app: MakeApp, store: Any, people: Any, clock: Any, repaints: list[Repaint]
) -> None:
    from conftest import new_ticket

    start = clock.now
    store.create_ticket(new_ticket(people, priority=Priority.URGENT, assigned_to=people.agent))
    clock.advance(seconds=30)  # first response due in 59m 30s: "59m", updated "now"
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        assert table.get_cell_at(Coordinate(0, 1)).plain == "● 59m"
        by_second: dict[int, list[Repaint]] = {}
        for second in range(31, 63):
            clock.now = start + timedelta(seconds=second)
            repaints.clear()
            queue.tick(clock.now)
            by_second[second] = list(repaints)

        # 60 s after it was updated: "now" -> "1m"; 59m 00s -> 58m 59s left: "59m" -> "58m".
        assert {s for s, seen in by_second.items() if seen} == {60, 61}
        updated, sla = cell_region(table, 0, "updated"), cell_region(table, 0, "sla")
        pad = table.cell_padding
        # Only the characters that change: "now" -> "1m" (3 cells), "● 59m" -> "● 58m" (one).
        assert by_second[60] == [(table, (Region(updated.x + pad, updated.y, 3, 1),))]
        assert by_second[61] == [(table, (Region(sla.x + pad + 3, sla.y, 1, 1),))]
        assert table.get_cell_at(Coordinate(0, 1)).plain == "● 58m"
        assert table.get_cell(table.current_key or "", "updated").plain == "1m"


async def test_cursor_move_repaints_the_two_rows_and_nothing_else(
    make_app: MakeApp, demo_store: Any, repaints: list[Repaint]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # All open: a screenful of rows
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        row = table.cursor_row
        repaints.clear()
        await pilot.press("j")
        seen = list(repaints)
        assert table.cursor_row == row + 1
        assert {widget for widget, _ in seen} == {table}
        painted = {region for _, regions in seen for region in regions}
        assert painted == {row_region(table, row), row_region(table, row + 1)}
        # Each row is one run of text in one style: colour codes once per row, not per cell.
        header = table.header_height
        for line in (header + row, header + row + 1):
            assert len(list(table.render_line(line))) == 1


async def test_live_update_of_one_ticket_repaints_its_row_only(
    make_app: MakeApp, demo_store: Any, repaints: list[Repaint]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.table
        key = table.coordinate_to_cell_key(Coordinate(2, 0)).row_key.value
        demo_store.db.tickets.update_one(
            {"_id": table.tickets[key or ""].id}, {"$set": {"subject": "Renamed by the service"}}
        )
        repaints.clear()
        queue.load(keep_window=True)  # what a live change does
        await settle(pilot)
        seen = list(repaints)
        assert table.get_cell(key or "", "subject").plain.endswith("Renamed by the service")
        assert {widget for widget, _ in seen} == {table}
        painted = {region for _, regions in seen for region in regions}
        assert painted == {row_region(table, 2)}


async def test_scrolling_past_the_last_visible_row_scrolls_half_a_page(
    make_app: MakeApp, demo_store: Any
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # All open: more rows than the screen holds
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        visible = table.scrollable_content_region.height - table.header_height
        await pilot.press("g", *["j"] * (visible - 1))
        assert table.cursor_row == visible - 1
        assert table.scroll_y == 0  # the cursor is on the last visible row
        await pilot.press("j")
        assert table.scroll_y == visible - visible // 2
        scrolled = table.scroll_y
        await pilot.press(*["j"] * (visible // 2 - 1))
        assert table.scroll_y == scrolled  # the next steps repaint two rows, not the table


async def test_a_changed_count_repaints_its_digits_in_the_view_bar_not_the_bar(
    make_app: MakeApp, demo_store: Any, repaints: list[Repaint]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        bar = queue.query_one(ViewBar)
        before = bar.render_line(0).text
        counts = dict(queue.counts)
        repaints.clear()
        bar.show(queue.views, queue.view_index, counts)  # the same: nothing repainted
        assert repaints == []
        counts["unassigned"] = 8  # was 7
        bar.show(queue.views, queue.view_index, counts)
        await pilot.pause()
        name = "Unassigned" if "Unassigned 7" in before else "Unasg"  # as wide as fits
        column = before.index(f"{name} 7") + len(f"{name} ")
        assert repaints == [(bar, (Region(column, 0, 1, 1),))]
        assert f"{name} 8" in bar.render_line(0).text
