"""SVG snapshots of the search results (issue 16), on the demo data at the fixed clock.

Same rules as tests/render/test_snapshots.py (whose helpers these use): every store worker settled
before the picture, the feed's polling held, no cursor blink. Regenerate after an intended
change with ``pytest tests/render/test_snapshots_search.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from typing import Any

from helpers import MakeApp
from test_snapshots import NARROW, WIDE, app_for, hostile_ticket, shows, steps, type_text

from helpdesk_tui.store.tickets import TicketStore

QUERY = '"third time"'


def test_search_results_with_the_matching_line_at_120x40(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(
            "slash",
            type_text(QUERY),
            "enter",
            shows("This is the third time", "scanned all 60 tickets (no text index)"),
        ),
    )


def test_search_results_at_80x24(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=NARROW,
        run_before=steps("slash", type_text(QUERY), "enter", shows("third time")),
    )


def test_search_snippet_with_markup_and_escapes_renders_literally(
    snap_compare: Any, demo_store: TicketStore, make_app: MakeApp
) -> None:
    hostile_ticket(demo_store)
    assert snap_compare(
        app_for(make_app, demo_store),
        terminal_size=WIDE,
        run_before=steps(
            "slash",
            type_text("evil.example"),
            "enter",
            shows("Again: Click [link=https://evil.example", "Refund [bold red]NOW[/] \\"),
        ),
    )
