"""Keys typed ahead (a paste, a fast typist, a laggy SSH link) act on the screen the user will
see when each key is handled, whatever the store is doing (issue 11.2 and 11.3).

Every sequence runs twice: through ``pilot.press`` (one key at a time, the loop idles between
keys) and as a true burst (every key queued before the first is handled, as a paste arrives).
The ticket's load is held back by a gate until the keys are in, so each test covers the case
that broke: keys arriving before the screen's data.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import burst, plain, settle, until
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.screens.dialogs import ChoiceDialog, TextDialog
from helpdesk_tui.screens.queue import QueueScreen
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.search import SearchScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.terminal_input import PasteParser


def keys_of(text: str) -> list[str]:
    """``"enter r Hello there"``: named keys and single letters are keys, longer words are typed
    text, and two words of text in a row have a space between them."""
    named = {"enter", "escape", "space", "backspace", "slash", "tab"}
    keys: list[str] = []
    previous_was_text = False
    for word in text.split(" "):
        is_text = len(word) > 1 and word not in named and not word.startswith("ctrl+")
        if is_text and previous_was_text:
            keys.append("space")
        keys.extend(word if is_text else [word])
        previous_was_text = is_text
    return keys


def test_keys_of_reads_named_keys_and_text() -> None:
    assert keys_of("enter r Hello there") == ["enter", "r", *"Hello", "space", *"there"]
    assert keys_of("enter q enter q q") == ["enter", "q", "enter", "q", "q"]


Typist = Callable[[Pilot[Any], list[str]], Any]


async def typed(pilot: Pilot[Any]) -> None:
    """Until the app has taken every key: a ticket's screen takes keys once mounted, and it
    waits a moment for its data first (``FIRST_FRAME_WAIT``), which the gate holds back."""
    app = pilot.app
    assert await until(
        pilot, lambda: not app._held_keys and getattr(app.screen, "keys_ready", True)
    )
    await pilot.pause()  # the keys the app had not looked at yet


async def one_by_one(pilot: Pilot[Any], keys: list[str]) -> None:
    await pilot.press(*keys)
    await typed(pilot)


async def all_at_once(pilot: Pilot[Any], keys: list[str]) -> None:
    await burst(pilot, *keys)
    await typed(pilot)


TYPISTS = pytest.mark.parametrize("typist", [one_by_one, all_at_once], ids=["press", "burst"])


@pytest.fixture
def gate(demo_store: TicketStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """While closed, reading a ticket waits: its screen is open but its data has not come
    (the screen reads it with its history in one command, ``ticket_and_history``)."""
    import helpdesk_tui.screens.ticket as ticket_screen

    opened = threading.Event()
    original = demo_store.get_ticket
    original_opened = ticket_screen.ticket_and_history

    def get_ticket(*args: Any, **kwargs: Any) -> Any:
        opened.wait(timeout=10)
        return original(*args, **kwargs)

    def ticket_and_history(*args: Any, **kwargs: Any) -> Any:
        opened.wait(timeout=10)
        return original_opened(*args, **kwargs)

    monkeypatch.setattr(demo_store, "get_ticket", get_ticket)
    monkeypatch.setattr(ticket_screen, "ticket_and_history", ticket_and_history)
    yield opened
    opened.set()  # never leave a worker thread parked


async def started(pilot: Pilot[Any]) -> QueueScreen:
    """The queue on All open (many rows), loaded."""
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen) and queue.table.row_count >= 2
    return queue


def stack(pilot: Pilot[Any]) -> list[str]:
    return [type(s).__name__ for s in pilot.app.screen_stack[1:]]


@TYPISTS
async def test_enter_r_and_text_ends_in_the_reply_editor_with_all_the_text(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        number = queue.table.current.ticket_number
        await typist(pilot, keys_of("enter r Hello there"))
        assert stack(pilot) == ["QueueScreen", "TicketScreen", "ReplyScreen"]
        gate.set()
        await settle(pilot)
        reply = app.screen
        assert isinstance(reply, ReplyScreen)
        assert reply.editor.text == "Hello there"
        assert not reply.internal
        assert stack(pilot) == ["QueueScreen", "TicketScreen", "ReplyScreen"]  # no tags dialog
        assert number in plain(reply.query_one("#reply-header", Static))


# Key sequences that open screens and close them again before (or as) the data comes: each
# ends back on the queue, and none of its q or escape quits the app.
BACK_ON_THE_QUEUE = {
    "enter-q": "enter q",
    "escapes": "enter escape enter escape escape escape",
    "reply-and-note": "enter r ctrl+g i ctrl+g q",
}


@TYPISTS
@pytest.mark.parametrize("keys", list(BACK_ON_THE_QUEUE.values()), ids=list(BACK_ON_THE_QUEUE))
async def test_keys_that_open_and_close_screens_end_back_on_the_queue_and_do_not_quit(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist, keys: str
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await typist(pilot, keys_of(keys))
        gate.set()
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen"]
        assert app.return_code is None


@TYPISTS
async def test_enter_q_enter_q_q_quits_cleanly_and_late_results_are_dropped(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await typist(pilot, keys_of("enter q enter q"))
        assert stack(pilot) == ["QueueScreen"]
        gate.set()  # the two ticket loads finish now, for screens that are gone
        await settle(pilot)
        assert app.return_code is None and stack(pilot) == ["QueueScreen"]
        await typist(pilot, ["q"])
        await pilot.pause()
    assert app.return_code == 0
    assert app._exception is None


async def test_a_ticket_result_arriving_after_its_screen_closed_is_dropped(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await pilot.press("enter")
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not ticket.is_attached
        gate.set()
        await settle(pilot)
        assert app.return_code is None
        assert ticket.loaded is False  # the result had nowhere to go
    assert app._exception is None


@TYPISTS
@pytest.mark.parametrize("key", ["s", "p", "t"])
async def test_a_dialog_opened_and_cancelled_in_a_burst_leaves_the_ticket_then_the_queue(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist, key: str
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await typist(pilot, ["enter", key])
        assert isinstance(app.screen, ChoiceDialog | TextDialog)  # its data was not needed
        await typist(pilot, ["escape", "q"])
        gate.set()
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen"]


@TYPISTS
async def test_tags_typed_ahead_go_into_the_tags_box(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        ticket = queue.table.current
        await typist(pilot, keys_of("enter t space vip enter"))
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        doc = demo_store.tickets.find_one({"_id": ticket.id})
        assert "vip" in doc["tags"]
        assert set(ticket.tags) <= set(doc["tags"])  # the existing tags are kept


@TYPISTS
async def test_j_then_enter_opens_the_row_j_moved_to(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        row = queue.table.cursor_row
        assert row + 1 < queue.table.row_count
        second = queue.table.tickets[queue.table.ordered_rows[row + 1].key.value]
        await typist(pilot, ["j", "enter"])
        ticket = app.screen
        assert isinstance(ticket, TicketScreen) and ticket.ticket_id == second.id
        gate.set()
        await settle(pilot)


@TYPISTS
async def test_a_search_typed_ahead_goes_into_the_search_box_not_to_the_reply_key(
    demo_store: TicketStore, make_app: MakeApp, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await typist(pilot, keys_of("slash refund enter"))
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen", "SearchScreen"]
        search = app.screen
        assert isinstance(search, SearchScreen) and search.query_text == "refund"
        assert search.table.row_count  # it searched


@TYPISTS
async def test_keys_after_a_view_key_act_on_the_rows_of_that_view(
    demo_store: TicketStore, make_app: MakeApp, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.view_index == 0
        await typist(pilot, ["3", "space", "space"])
        await settle(pilot)
        assert queue.view_index == 2
        assert len(queue.table.selected) == 2
        assert queue.table.selected <= set(queue.table.tickets)  # rows of All open


@TYPISTS
async def test_n_r_and_text_replies_on_the_ticket_n_took_not_on_the_highlighted_row(
    demo_store: TicketStore, make_app: MakeApp, typist: Typist
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        highlighted = queue.table.current
        await typist(pilot, keys_of("n r Hi"))
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen", "TicketScreen", "ReplyScreen"]
        ticket, reply = pilot.app.screen_stack[2], pilot.app.screen
        assert isinstance(ticket, TicketScreen) and isinstance(reply, ReplyScreen)
        assert reply.ticket_id == ticket.ticket_id != highlighted.id  # the one taken
        assert reply.editor.text == "Hi" and not reply.internal


@TYPISTS
async def test_an_enter_typed_before_the_app_took_the_terminal_opens_the_ticket(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    """`helpdesk-tui⏎3jjj⏎` typed ahead: the terminal's line discipline (still cooked while
    Python starts) turns that Enter into LF, which arrives as ctrl+j. It opens the row."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await typist(pilot, ["j", "ctrl+j"])
        assert stack(pilot) == ["QueueScreen", "TicketScreen"]
        gate.set()
        await settle(pilot)


@TYPISTS
async def test_enter_and_a_digit_open_the_customers_other_ticket_once_the_list_comes(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, typist: Typist
) -> None:
    """`enter 1` in one burst: the digit arrives before the customer's list of tickets; it
    opens that list's first ticket when the list comes, and nothing is lost."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await started(pilot)
        counts: dict[Any, int] = {}
        for doc in demo_store.tickets.find({}, {"user": 1}):
            counts[doc.get("user")] = counts.get(doc.get("user"), 0) + 1
        rows = list(queue.table.tickets.values())
        row = next(i for i, t in enumerate(rows) if counts.get(t.user, 0) >= 2)
        queue.table.move_cursor(row=row, animate=False)
        await pilot.pause()
        first = rows[row]
        await typist(pilot, ["enter", "1"])
        gate.set()
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen", "TicketScreen", "TicketScreen"]
        opened = pilot.app.screen
        assert isinstance(opened, TicketScreen)
        assert opened.ticket is not None and opened.ticket.user == first.user
        assert opened.ticket.id != first.id


async def read_together(pilot: Pilot[Any], data: str) -> None:
    """``data`` as one read of the terminal: through the app's parser (Textual's, pastes read
    whole), so what arrives together is parsed together (``ESC q`` is Alt+q), every key queued
    before the first acts."""
    app = pilot.app
    driver = app._driver
    assert driver is not None
    parser = PasteParser(debug=False)
    for event in [*parser.feed(data), *parser.feed("")]:
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()


@pytest.mark.parametrize("burst", ["\x1bq", "\x1bq\r\x1b"], ids=["esc-q", "esc-q-enter-esc"])
async def test_escape_and_q_read_together_leave_the_reply_and_the_ticket(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event, burst: str
) -> None:
    """`esc q` on a laggy link arrives as one ``ESC q``, which the parser calls Alt+q: the q was
    typed into the draft and the reply stayed open. It is Escape (the draft kept), then q. With
    more keys behind it (`esc q enter esc`: the ticket opened again, then back), ``^q`` and a
    new line were typed into the draft and the last Escape closed the reply."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await read_together(pilot, "\rrHi")
        gate.set()
        await settle(pilot)
        reply = app.screen
        assert isinstance(reply, ReplyScreen) and reply.editor.text == "Hi"
        await read_together(pilot, burst)
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen"]
        await pilot.press("enter", "r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen) and app.screen.editor.text == "Hi"


def test_escape_and_a_letter_with_more_keys_behind_them_in_one_read_are_not_a_caret() -> None:
    """``esc q enter q`` in one read: Textual's parser waited for a longer sequence and, at the
    next ESC, replayed them all as keys with the ESC as ``^`` (``^q`` typed into a draft). An
    ESC and a letter end there, as when nothing follows (Alt+q, the app's Escape then q);
    sequences that go on (arrows, F1, Alt+Up, ESC ESC) still parse."""
    parser = PasteParser()
    data = "\x1bq\rq\r\x1bj\x1b[A\x1bOP\x1b\x1b[B\x1b\x1b"
    tokens = [*parser.feed(data), *parser.feed("")]
    keys = [token.key for token in tokens if isinstance(token, events.Key)]
    assert keys == [
        *("alt+q", "enter", "q", "enter", "alt+j"),
        *("up", "f1", "escape", "down", "escape", "escape"),
    ]


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        ("\x1b\r", ["escape", "enter"]),
        ("\x1b x", ["escape", "space", "x"]),
        ("\x1b/a", ["escape", "slash", "a"]),
        ("\x1b\x10", ["escape", "ctrl+p"]),
        ("\x1b\x13\x1b", ["escape", "ctrl+s", "escape"]),
        # ESC sequences of their own stay theirs: Option+2, Alt+Backspace, ESC f, ESC Tab.
        ("\x1b2\x1b\x7f\x1bf\x1b\t", ["trade_mark_sign", "ctrl+w", "ctrl+right", "shift+tab"]),
    ],
)
def test_escape_and_a_key_that_is_not_a_letter_read_together_keep_their_escape(
    data: str, keys: list[str]
) -> None:
    """Textual reads ESC and such a key as the key alone (its Alt dropped): ``esc enter`` was
    Enter, ``esc ctrl+p`` opened the palette over the screen the Escape should have closed."""
    parser = PasteParser()
    tokens = [*parser.feed(data), *parser.feed("")]
    assert [token.key for token in tokens if isinstance(token, events.Key)] == keys


async def ticket_opened(pilot: Pilot[Any], gate: threading.Event) -> QueueScreen:
    """All open, then its first ticket opened by an Enter read on its own; the queue."""
    queue = await started(pilot)
    gate.set()
    await read_together(pilot, "\r")
    await settle(pilot)
    assert stack(pilot) == ["QueueScreen", "TicketScreen"]
    return queue


async def test_escape_and_j_read_together_go_back_and_move_down(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await ticket_opened(pilot, gate)
        await read_together(pilot, "\x1bj")
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen"]
        assert queue.table.cursor_row == 1


@asynccontextmanager
async def alt_r_bound(
    make_app: MakeApp, store: TicketStore, gate: threading.Event
) -> AsyncIterator[Pilot[Any]]:
    """The app with `reply = "alt+r"` in [keys], started, its first load let through."""
    config = Config(keys={"reply": "alt+r"}, ui=UiConfig(poll_interval_seconds=3600))
    app = make_app(store, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        gate.set()
        yield pilot


async def test_an_alt_letter_the_agent_bound_in_keys_stays_alt(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event
) -> None:
    """Escape-then-letter is for keys nobody bound: `reply = "alt+r"` in [keys] opens the reply."""
    async with alt_r_bound(make_app, demo_store, gate) as pilot:
        await read_together(pilot, "\x1br")
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen", "ReplyScreen"]


async def test_a_ticket_opened_before_the_first_rows_were_painted_still_gets_the_counts(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter typed while the app starts opens the first ticket the moment the rows arrive,
    before they are painted. The work that waits for the rows to be painted (the view counts,
    who else is looking, what is mine for the alerts) waited until something else happened
    on the queue: the counts came only when the agent went back, seconds later (on the counts
    timer, which this test stops, so only the queue's own return can bring them)."""
    import helpdesk_tui.screens.queue as queue_screen

    monkeypatch.setattr(queue_screen, "COUNTS_REFRESH_SECONDS", 3600)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await read_together(pilot, "\r")
        assert await until(pilot, lambda: isinstance(app.screen, TicketScreen), seconds=10)
        queue = app.screen_stack[-2]
        assert isinstance(queue, QueueScreen)
        await settle(pilot)
        assert app.alerts.mine_ids is not None, "what is mine was never read"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is queue
        expected = demo_store.count_views({view.key: view.query for view in queue.views})
        assert queue.counts == expected
        bar = plain(queue.query_one("#view-bar", Static))
        shown = f"{queue.view_index + 1} {queue.view.name} {expected[queue.view.key]}"
        assert shown in bar, bar


async def test_an_alt_letter_bound_on_one_screen_is_escape_then_the_letter_on_another(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event
) -> None:
    """With `reply = "alt+r"`, "esc r" in the reply editor (which binds no alt+r) typed "r"
    into the draft: whether ESC+r is Alt+r is up to the screen at the key's turn."""
    async with alt_r_bound(make_app, demo_store, gate) as pilot:
        await read_together(pilot, "\r\x1brHi")
        await settle(pilot)
        reply = pilot.app.screen
        assert isinstance(reply, ReplyScreen) and reply.editor.text == "Hi"
        await read_together(pilot, "\x1br")
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen", "TicketScreen"]
        await read_together(pilot, "\x1br")  # on the ticket, alt+r is the reply key
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReplyScreen) and pilot.app.screen.editor.text == "Hi"


async def test_escape_and_a_digit_read_together_go_back_and_switch_the_view(
    demo_store: TicketStore, make_app: MakeApp, gate: threading.Event
) -> None:
    """ "esc 2" on a laggy link arrives as one ``ESC 2``, which Textual's parser takes for a
    Mac's Option+2 ("™"): nothing happened, the agent stayed on the ticket, and the next digit
    opened another of the customer's tickets. In the reply editor it stays the character."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await ticket_opened(pilot, gate)
        await read_together(pilot, "\x1b2")
        await settle(pilot)
        assert stack(pilot) == ["QueueScreen"]
        assert queue.view.key == "unassigned"
        await read_together(pilot, "\rrNice")
        await settle(pilot)
        await read_together(pilot, "\x1b2")
        await settle(pilot)
        reply = app.screen
        assert isinstance(reply, ReplyScreen) and reply.editor.text == "Nice™"
