"""Split on the ticket screen (``S``): mark messages, move them into a new ticket (issue 16.4)."""

from __future__ import annotations

from typing import Any

from helpers import QUIET, MakeApp
from pilot import burst, open_ticket, record_notifications, settle
from textual.widgets import SelectionList

from helpdesk_tui.screens.split_actions import SplitDialog
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation


def _ticket_with_messages(store: TicketStore, count: int) -> dict[str, Any]:
    doc = store.tickets.find_one(
        {
            "status": {"$in": ["open", "in_progress", "waiting"]},
            f"messages.{count - 1}": {"$exists": True},
            "legacyField": {"$exists": False},
        }
    )
    assert doc is not None, f"the demo has an active ticket with {count} messages"
    return dict(doc)


async def test_shift_s_splits_two_marked_messages_into_a_new_ticket_at_80x24(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    source = _ticket_with_messages(demo_store, 3)
    messages = source["messages"]
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        notes = record_notifications(app)
        screen = await open_ticket(pilot, source["_id"])

        await pilot.press("S")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, SplitDialog)
        options = dialog.query_one(SelectionList)
        assert options.option_count == len(messages)
        assert options.region.height >= 3 and options.region.right <= 80  # usable at 80x24
        # Mark the second and third messages, in one burst (as a paste or a laggy link
        # delivers keys): enter must act after the marks typed before it.
        await burst(pilot, "down", "space", "down", "space", "enter")
        await settle(pilot)

        assert pilot.app.screen is screen
        moved = [messages[1]["_id"], messages[2]["_id"]]
        after = demo_store.tickets.find_one({"_id": source["_id"]})
        assert after is not None
        assert not {m["_id"] for m in after["messages"]} & set(moved)
        created = demo_store.tickets.find_one(
            {
                "user": source["user"],
                "messages.content": messages[1]["content"],
                "_id": {"$ne": source["_id"]},
            }
        )
        assert created is not None
        wanted = [messages[1]["content"], messages[2]["content"]]
        assert [m["content"] for m in created["messages"] if m["content"] in wanted] == wanted
        toast = [text for _, _, text in notes if "Split" in text]
        assert toast == [f"Split 2 messages off into {created['ticketNumber']}."]
        # The moved messages have left the conversation on screen, not only the database.
        shown_ids = {v.message.id for v in screen.query_one(Conversation).messages}
        assert not shown_ids & set(moved) and messages[0]["_id"] in shown_ids


async def test_escape_or_q_leaves_the_split_dialog_and_moves_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    source = _ticket_with_messages(demo_store, 2)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, source["_id"])
        for cancel in ("escape", "q"):
            await pilot.press("S")
            await settle(pilot)
            assert isinstance(pilot.app.screen, SplitDialog)
            await pilot.press("space", cancel)
            await settle(pilot)
            assert pilot.app.screen is screen
        after = demo_store.tickets.find_one({"_id": source["_id"]})
        assert after is not None and after["messages"] == source["messages"]
