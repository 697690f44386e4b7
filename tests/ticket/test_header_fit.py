"""The ticket header keeps status, priority, assignee, customer, SLA and presence on screen
whatever the length of the subject or the customer's name (issue 29): long text is cut with an
ellipsis, and ``v`` shows it in full, controls spelled out."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import People, new_ticket
from helpers import QUIET, MakeApp
from pilot import settle
from rich.text import Text
from textual.widgets import Static

from helpdesk_tui.screens.full_text import FullTextDialog
from helpdesk_tui.screens.help import binding_rows
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import TicketHeader

HOSTILE = "\x1b]52;c;cHduZWQ=\x07 [bold]x[/bold] \u202eevil \x9b2J "
SUBJECT = ("Refund " + HOSTILE + "please ") * 10_000
SUBJECT = SUBJECT[:10_000]
NAME = ("Carla " + HOSTILE) * 50
NAME = NAME[:500]


def on_screen(widget: Static) -> list[str]:
    """The header's lines as they reach the terminal (what a user reads)."""
    return [
        "".join(segment.text for segment in strip)
        for strip in widget.render_lines(widget.region.reset_offset)
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_10000_character_subject_leaves_status_sla_and_presence_in_the_header(
    store: TicketStore, db: Any, people: People, make_app: MakeApp, size: tuple[int, int]
) -> None:
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    assert ticket.id is not None
    db.tickets.update_one({"_id": ticket.id}, {"$set": {"subject": SUBJECT}})
    db.users.update_one({"_id": people.customer}, {"$set": {"name": NAME}})
    store.assign(ticket.id, people.agent, actor=people.agent)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    app.presence.beat(ticket.id, people.other_agent, "Bo Agent", "viewing")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await app.push_screen(TicketScreen(ticket.id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        header = screen.query_one(TicketHeader)
        lines = on_screen(header)
        text = "\n".join(lines)
        assert len(lines) <= 12
        for shown in ("Status: open", "Priority: high", "Assignee: Ann Agent", "Customer: Carla"):
            assert shown in text, shown
        assert "first response" in text and "resolution" in text  # both SLA clocks
        assert "👁 Bo Agent" in text  # presence
        assert "…" in lines[0]  # the subject is cut, with an ellipsis
        assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
        assert "\\x1b]52" in lines[0]  # spelled out, not obeyed
        # The header sits above the conversation, not over the whole screen.
        assert header.region.height <= 12 and header.region.bottom < size[1] - 2

        assert ("v", "Full subject and customer") in binding_rows(screen)  # `?` lists it
        await pilot.press("v")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FullTextDialog)
        body = dialog.query_one("#full-text-body", Static).content
        assert isinstance(body, Text)
        assert "Refund \\x1b]52;c;cHduZWQ=\\x07 [bold]x[/bold] \\u202eevil" in body.plain
        assert body.plain.count("Refund") == SUBJECT.count("Refund")  # all of it
        assert NAME.count("Carla") == body.plain.count("Carla")
        assert "\x1b" not in body.plain and "\u202e" not in body.plain
        assert all(not span.style or str(span.style) == "bold" for span in body.spans)
        await pilot.press("q")
        await settle(pilot)
        assert app.screen is screen
