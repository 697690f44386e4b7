"""The header never calls a colleague an "unknown user" because their read failed (fault walk
#27, #37: during a stall the header said "Assignee: unknown user …52e901", the agent herself,
and still did after the server was back), and a load that failed is tried again once the feed
is live again."""

from __future__ import annotations

from typing import Any

from conftest import People, new_ticket
from helpers import QUIET, MakeApp
from pilot import settle, until

from helpdesk_tui.domain.errors import StoreUnavailable
from helpdesk_tui.messages import FeedStateChanged
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import TicketHeader


def header_text(screen: TicketScreen) -> str:
    header = screen.query_one(TicketHeader)
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in header.render_lines(header.region.reset_offset)
    )


async def test_a_failed_read_of_the_people_shows_no_unknown_user_and_is_read_again_when_live(
    store: TicketStore, people: People, make_app: MakeApp, monkeypatch: Any
) -> None:
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    assert ticket.id is not None
    store.assign(ticket.id, people.agent, actor=people.agent)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    real = store.users_by_ids
    down = {"now": True}

    def users_by_ids(ids: Any) -> Any:  # the database does not answer this read, for now
        if down["now"]:
            raise StoreUnavailable("the connection to the database failed")
        return real(ids)

    monkeypatch.setattr(store, "users_by_ids", users_by_ids)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = TicketScreen(
            ticket.id, store.get_ticket(ticket.id)
        )  # the row, as the queue has it
        await app.push_screen(screen)
        await settle(pilot)
        text = header_text(screen)
        assert "unknown user" not in text
        assert "Assignee: …" in text
        down["now"] = False  # the server is back: the feed says live again
        screen.post_message(FeedStateChanged("live"))
        assert await until(pilot, lambda: "Assignee: Ann Agent" in header_text(screen))
        assert "unknown user" not in header_text(screen)


async def test_a_stored_value_the_app_cannot_read_is_shown_unreadable_not_its_default(
    store: TicketStore, db: Any, people: People, make_app: MakeApp
) -> None:
    """Fault walk #35: another program stored status "escalated", priority 5 and tags "vip";
    the header said "Status: open", "Priority: medium", "Tags: —" with no ⚠ for them."""
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    assert ticket.id is not None
    db.tickets.update_one(
        {"_id": ticket.id}, {"$set": {"status": "escalated", "priority": 5, "tags": "vip"}}
    )
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = TicketScreen(ticket.id)
        await app.push_screen(screen)
        await settle(pilot)
        text = header_text(screen)
        for field in ("Status", "Priority", "Tags"):
            assert f"{field}: ⚠ unreadable" in text, text
        assert "Status: open" not in text and "Priority: medium" not in text
