"""The conversation as one virtual log (issue 29): a 5,000-message ticket opens at its newest
message having drawn only the lines on screen, and the keys scroll it line by line, by the
page and to either end, showing the messages a user expects there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import FakeClock, People, as_service, new_ticket
from helpers import QUIET, MakeApp
from pilot import settle

from helpdesk_tui.domain.models import new_message_doc
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.opened import TAIL
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation
from helpdesk_tui.widgets.message_log import MessageLog

MESSAGES = 5_000


def big_ticket(store: TicketStore, people: People, clock: FakeClock, count: int) -> Any:
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    start = clock.now + timedelta(minutes=1)
    docs = [
        new_message_doc(
            sender=people.customer if n % 2 == 0 else people.agent,
            content=f"message {n}: " + "words that wrap " * (n % 13),
            now=start + timedelta(minutes=n),
            is_internal=n % 10 == 9,
        )
        for n in range(count)
    ]
    store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": {"$each": docs}}})
    as_service(store, ticket.id)
    clock.advance(days=4)  # now: after the newest message
    return ticket


def on_screen(conversation: Conversation) -> list[str]:
    """The conversation's lines as drawn now (borders included), top to bottom."""
    return [
        "".join(segment.text for segment in conversation.render_line(y))
        for y in range(conversation.size.height)
    ]


async def open_conversation(pilot: Any, ticket: Any) -> Conversation:
    """The ticket's screen pushed over the queue: its conversation."""
    await settle(pilot)
    await pilot.app.push_screen(TicketScreen(ticket.id))
    await settle(pilot)
    return pilot.app.screen.query_one(Conversation)


async def test_a_5000_message_ticket_opens_at_its_newest_message_drawing_only_what_shows(
    store: TicketStore, people: People, clock: FakeClock, make_app: MakeApp, monkeypatch: Any
) -> None:
    ticket = big_ticket(store, people, clock, MESSAGES)
    built: list[int] = []
    original = MessageLog._build_line

    def counted(self: MessageLog, line: int) -> Any:
        built.append(line)
        return original(self, line)

    monkeypatch.setattr(MessageLog, "_build_line", counted)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        conversation = await open_conversation(pilot, ticket)
        # Only the newest messages were read (store/opened.py TAIL); older ones on scrolling up.
        assert len(conversation.messages) == TAIL
        assert conversation.start == MESSAGES - TAIL
        times = [m.message.created_at for m in conversation.messages]
        assert times == sorted(times)
        lines = on_screen(conversation)
        # The newest message's box closes the view; its text is right above.
        assert lines[-1].lstrip().startswith("╰") or lines[-1].lstrip().startswith("┗")
        assert any(f"message {MESSAGES - 1}:" in line for line in lines)
        assert not any("message 0:" in line for line in lines)
        # A few screens of lines were ever drawn.
        assert len(set(built)) <= 4 * conversation.size.height


async def test_keys_scroll_the_big_conversation_by_line_page_and_to_either_end(
    store: TicketStore, people: People, clock: FakeClock, make_app: MakeApp
) -> None:
    ticket = big_ticket(store, people, clock, 500)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await open_conversation(pilot, ticket)
        assert conversation.scroll_y == conversation.max_scroll_y > 0

        async def press(*keys: str) -> list[str]:
            await pilot.press(*keys)
            await settle(pilot)
            return on_screen(conversation)

        top = await press("home")  # reads the older messages first (store/opened.py)
        assert conversation.scroll_y == 0 and conversation.start == 0
        end = conversation.max_scroll_y
        assert any("Ordered two weeks ago, still nothing." in line for line in top)
        await press("down")
        assert conversation.scroll_y == 1
        await press("j")
        assert conversation.scroll_y == 4  # j: three lines
        await press("k")
        assert conversation.scroll_y == 1
        await press("up")
        assert conversation.scroll_y == 0
        page = conversation.size.height
        await press("pagedown")
        assert conversation.scroll_y == page
        paged = on_screen(conversation)
        assert paged[0] == top[page] if page < len(top) else True
        await press("pageup")
        assert conversation.scroll_y == 0
        bottom = await press("end")
        assert conversation.scroll_y == end
        assert any("message 499:" in line for line in bottom)


async def test_a_narrower_terminal_wraps_the_messages_again_and_keeps_the_newest_in_view(
    store: TicketStore, people: People, clock: FakeClock, make_app: MakeApp
) -> None:
    ticket = big_ticket(store, people, clock, 60)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        conversation = await open_conversation(pilot, ticket)
        wide = conversation.line_count
        await pilot.resize_terminal(60, 24)
        await settle(pilot)
        assert conversation.line_count > wide  # the same text on more, narrower lines
        lines = on_screen(conversation)
        assert all(len(line) <= conversation.size.width for line in lines)
        assert any("message 59:" in line for line in lines)
        assert conversation.scroll_y == conversation.max_scroll_y
