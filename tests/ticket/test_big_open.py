"""Opening a big ticket reads what the screen shows first (issue 29): the newest messages, long
bodies cut by the server, and the rest when the agent goes to it. On the real server, through
the app; what crossed the wire is counted by a pymongo command listener on the app's client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import FakeClock, People, as_service, new_ticket
from hostile_world import ATTACKS, FORBIDDEN
from pilot import settle
from pymongo import MongoClient, monitoring

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.domain.models import Ticket, new_message_doc
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.embedded import EmbeddedServer
from helpdesk_tui.store.opened import BODY_CHARS, PAGE, TAIL
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.widgets.conversation import Conversation, MessageEntry

QUIET = Config(ui=UiConfig(poll_interval_seconds=3600))


class Replies(monitoring.CommandListener):
    """How many ``messages`` elements each reply from ``tickets`` carried (the change stream's
    events aside: they are the feed's, not the screen's)."""

    def __init__(self) -> None:
        self.messages: list[int] = []
        self.watching = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if not self.watching or event.command_name not in ("find", "aggregate", "getMore"):
            return
        cursor = event.reply.get("cursor") or {}
        if "tickets" not in str(cursor.get("ns", "")):
            return
        batch = cursor.get("firstBatch", cursor.get("nextBatch", []))
        for doc in batch:
            if "operationType" in doc:  # a change event
                continue
            messages = doc.get("messages")
            if isinstance(messages, list):
                self.messages.append(len(messages))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def watched(
    server: EmbeddedServer, store: TicketStore, clock: FakeClock
) -> Iterator[tuple[TicketStore, Replies]]:
    replies = Replies()
    client: MongoClient[Any] = MongoClient(server.uri, tz_aware=True, event_listeners=[replies])
    yield TicketStore(client[store.db.name], store.settings, clock=clock), replies
    client.close()


def big_ticket(
    store: TicketStore, people: People, clock: FakeClock, count: int, **content: str
) -> Any:
    """A ticket with ``count`` messages "message N: …" a minute apart (``content``: the text
    of some of them, by position as a string)."""
    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    start = clock.now + timedelta(minutes=1)
    docs = [
        new_message_doc(
            sender=people.customer if n % 2 == 0 else people.agent,
            content=content.get(str(n), f"message {n}: " + "words that wrap " * (n % 7)),
            now=start + timedelta(minutes=n),
            is_internal=n % 10 == 9,
        )
        for n in range(count)
    ]
    store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": {"$each": docs}}})
    as_service(store, ticket.id)
    clock.advance(days=10)  # now: after the newest message
    return ticket


async def open_ticket(pilot: Any, ticket: Any) -> TicketScreen:
    await settle(pilot)
    screen = TicketScreen(ticket.id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


def numbers(conversation: Conversation) -> list[int]:
    """The N of each "message N:" shown, top to bottom."""
    return [
        int(entry.message.content.split(":")[0].split()[1])
        for entry in conversation.messages
        if entry.rank == 1 and entry.message.content.startswith("message ")
    ]


def on_screen(conversation: Conversation) -> list[str]:
    return [
        "".join(segment.text for segment in conversation.render_line(y))
        for y in range(conversation.size.height)
    ]


async def test_a_5000_message_ticket_opens_with_only_its_newest_messages_read(
    watched: tuple[TicketStore, Replies], people: People, clock: FakeClock, make_app: Any
) -> None:
    store, replies = watched
    ticket = big_ticket(store, people, clock, 5_000)
    whole = Ticket.from_mongo(store.tickets.find_one({"_id": ticket.id}))
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        replies.watching = True
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        # The server sent the newest TAIL messages, not the 5,000.
        assert replies.messages and max(replies.messages) <= TAIL
        assert sum(replies.messages) <= 2 * TAIL  # a live re-read adds only what is new
        assert numbers(conversation) == list(range(5_000 - TAIL, 5_000))
        lines = on_screen(conversation)
        assert any("message 4999:" in line for line in lines)
        # What the whole conversation says is still right: counts, and the SLA's first reply
        # (the first agent message, long before the window) as the header shows it.
        info = str(screen.query_one("#ticket-info").render())
        assert "5,000 messages and notes · 4,950 older not read yet" in info
        assert screen.ticket is not None
        assert screen.ticket.message_count == 5_000
        assert screen.ticket.first_response_at == whole.first_response_at is not None
        assert screen.ticket.last_message_at == whole.last_message_at
        assert screen.ticket.last_message_from_customer == whole.last_message_from_customer


async def test_scrolling_up_reads_the_earlier_messages_in_order_without_gaps_or_duplicates(
    watched: tuple[TicketStore, Replies], people: People, clock: FakeClock, make_app: Any
) -> None:
    store, replies = watched
    count = TAIL + 2 * PAGE + 17  # the window, two whole pages and a short one
    ticket = big_ticket(store, people, clock, count)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        assert numbers(conversation) == list(range(count - TAIL, count))
        replies.watching = True
        for _ in range(400):  # page up, as an agent reading back would
            if conversation.start == 0 and conversation.scroll_y == 0:
                break
            await pilot.press("pageup")
            await settle(pilot)
        assert conversation.start == 0
        assert numbers(conversation) == list(range(count))  # every one, once, in order
        times = [entry.at for entry in conversation.messages]
        assert times == sorted(times)
        assert sorted(replies.messages) == [17, PAGE, PAGE]  # a page at a time, nothing again
        assert screen.ticket is not None and len(screen.ticket.messages) == count
        # The description (the opening message) is first, once the top is reached.
        assert conversation.messages[0].rank == 0
        shown = on_screen(conversation)
        assert any("Ordered two weeks ago, still nothing." in line for line in shown)
        # The line that counted the older messages is gone.
        assert not any("earlier messages" in line for line in conversation.drawn())


async def test_home_goes_to_the_first_message_far_beyond_the_first_read(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    ticket = big_ticket(store, people, clock, 5_000)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        # The history older than the messages read waits for them (no "opened" line above
        # the newest 50 messages, with 4,950 missing in between).
        assert not any("opened the ticket" in line for line in conversation.drawn())
        await pilot.press("home")
        await settle(pilot)
        assert conversation.scroll_y == 0 and conversation.start == 0
        assert any("opened the ticket" in line for line in on_screen(conversation))
        assert numbers(conversation) == list(range(5_000))
        lines = on_screen(conversation)
        assert any("Ordered two weeks ago, still nothing." in line for line in lines)
        assert any("message 0:" in line for line in lines)
        info = str(screen.query_one("#ticket-info").render())
        assert "4,500 messages · 500 internal notes" in info
        await pilot.press("end")
        await settle(pilot)
        assert any("message 4999:" in line for line in on_screen(conversation))


async def test_the_older_messages_line_says_how_many_and_how_to_read_them(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    ticket = big_ticket(store, people, clock, TAIL + 3)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        assert conversation.drawn()[1].strip() == (
            "⋯ 3 earlier messages: scroll up or press home to read them"
        )


async def test_messages_arriving_while_open_appear_at_the_bottom_with_none_missed(
    watched: tuple[TicketStore, Replies], people: People, clock: FakeClock, make_app: Any
) -> None:
    store, replies = watched
    ticket = big_ticket(store, people, clock, 5_000)
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)

        async def arrive(first: int, count: int) -> None:
            docs = [
                new_message_doc(
                    sender=people.customer,
                    content=f"message {n}: new",
                    now=clock.now + timedelta(seconds=n),
                )
                for n in range(first, first + count)
            ]
            store.tickets.update_one({"_id": ticket.id}, {"$push": {"messages": {"$each": docs}}})
            screen.post_message(TicketsChanged({ticket.id}))  # as the live feed says it
            await settle(pilot)

        replies.watching = True
        await arrive(5_000, 1)
        assert numbers(conversation)[-2:] == [4_999, 5_000]
        assert any("message 5000: new" in line for line in on_screen(conversation))
        assert max(replies.messages) == 1  # only the new one was read
        # The copy and split choosers still offer every message read, not only the new one.
        assert screen.ticket is not None and len(screen.ticket.messages) == TAIL + 1
        # A burst of more than a window's worth between two reads: every one of them.
        await arrive(5_001, TAIL * 3)
        assert numbers(conversation) == list(range(5_000 - TAIL, 5_001 + TAIL * 3))
        assert conversation.start == 5_000 - TAIL  # nothing older was read meanwhile
        assert any(f"message {5_000 + TAIL * 3}: new" in line for line in on_screen(conversation))


async def test_a_2_mb_message_is_cut_by_the_server_and_e_reads_it_whole(
    watched: tuple[TicketStore, Replies], people: People, clock: FakeClock, make_app: Any
) -> None:
    store, replies = watched
    huge = "NEWEST " + "".join(f"line {n:07d} of a pasted log\n" for n in range(80_000))
    assert len(huge) > 2_000_000
    ticket = big_ticket(store, people, clock, 3, **{"2": huge})
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    sizes: list[int] = []
    original = replies.succeeded

    def measured(event: monitoring.CommandSucceededEvent) -> None:
        if replies.watching:
            sizes.append(len(str(event.reply)))
        original(event)

    replies.succeeded = measured  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        replies.watching = True
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        assert max(sizes) < BODY_CHARS * 3  # the 2 MB did not cross the wire
        (view,) = [e for e in conversation.messages if e.message.content.startswith("NEWEST")]
        assert isinstance(view, MessageEntry) and view.length == len(huge)
        rest = len(huge) - BODY_CHARS
        notice = f"… {rest:,} more characters not shown: press e to show more"
        assert notice in conversation.drawn(view)[-2]
        sizes.clear()
        await pilot.press("e")
        await settle(pilot)
        assert max(sizes) > len(huge)  # now it did, once, asked for
        assert view.message.content == huge
        for _ in range(2):  # 200,000 characters, then 2,000,000 and more: all of it
            await pilot.press("e")
            await settle(pilot)
        assert not view.truncated
        assert "line 0079999 of a pasted log" in conversation.drawn(view)[-3]


async def test_hostile_text_in_an_earlier_page_is_shown_literally(
    store: TicketStore, people: People, clock: FakeClock, make_app: Any
) -> None:
    attack = "".join(ATTACKS.values())
    ticket = big_ticket(store, people, clock, TAIL + 5, **{"0": f"message 0: {attack}"})
    app = make_app(store, "ann@helpdesk.test", config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, ticket)
        conversation = screen.query_one(Conversation)
        assert 0 not in numbers(conversation)
        await pilot.press("home")
        await settle(pilot)
        first = next(e for e in conversation.messages if e.message.content.startswith("message 0:"))
        drawn = "\n".join(conversation.drawn(first))
        for raw in FORBIDDEN:
            assert raw.decode() not in drawn
        assert "[bold]B" in drawn and "[@click=app.quit]Q[/]" in drawn  # markup as text
        assert "\\x1b]52;c;" in drawn and "\\u202eexe.fdp" in drawn  # controls spelled out
