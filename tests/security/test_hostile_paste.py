"""A paste is text, never keys (issue 26, part 5): the reply editor and the search box.

Textual's terminal parser replayed a bracketed paste's ``ESC`` and what followed it as keys
(``text ESC . ctrl+s`` sent the reply, ``ESC … BEL`` closed the editor); the editor and the
search box kept C1, bidi and zero-width characters raw. The parser tests feed the real bytes a
terminal sends; the pilot tests post the ``Paste`` event the parser makes, through the app's
own key handling, on a real server.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import record_notifications, settle
from textual import events
from textual.widgets import Input

from helpdesk_tui.domain.text import without_controls
from helpdesk_tui.screens.dialogs import TextDialog
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.search import SearchScreen
from helpdesk_tui.store.tickets import TicketStore
from helpdesk_tui.terminal_input import PasteParser
from helpdesk_tui.widgets.safe import SafeInput, SafeTextArea

from .hostile_input import (
    CLEAN_PASTE,
    END,
    HOSTILE_PASTE,
    PASTE_REMOVED,
    START,
    messages_of,
    open_reply,
)

HOSTILE, CLEAN = HOSTILE_PASTE, CLEAN_PASTE


def names(tokens: list[Any]) -> list[tuple[str, str]]:
    return [
        ("paste", t.text) if isinstance(t, events.Paste) else ("key", t.key)
        for t in tokens
        if isinstance(t, events.Paste | events.Key)
    ]


def test_the_cleaning_keeps_text_newlines_and_tabs_and_counts_what_it_removed() -> None:
    text, removed = without_controls(HOSTILE)
    assert text == CLEAN
    assert removed == PASTE_REMOVED
    assert without_controls("a\r\nb\rc\td") == ("a\nb\nc\td", 0)


@pytest.mark.parametrize("cut", [None, 1, 3, 6, 7, 20, -7, -6, -3, -1])
def test_a_bracketed_paste_is_one_paste_event_with_no_keys_however_the_bytes_are_split(
    cut: int | None,
) -> None:
    """Before: ``^ . ctrl+s … ctrl+g …`` as keys and a Paste of "Dear customer" only."""
    data = f"a{START}{HOSTILE}{END}b"
    chunks = [data] if cut is None else [data[: cut % len(data)], data[cut % len(data) :]]
    parser = PasteParser()
    tokens = [token for chunk in chunks for token in parser.feed(chunk)]
    assert names(tokens) == [("key", "a"), ("paste", HOSTILE), ("key", "b")]


def test_keys_around_pastes_still_parse_and_a_paste_that_never_ends_is_still_a_paste() -> None:
    parser = PasteParser()
    tokens = list(parser.feed(f"\x1b[A{START}x\x1b[201{END}\x1b[B{START}\x1b[20"))
    assert names(tokens) == [("key", "up"), ("paste", "x\x1b[201"), ("key", "down")]
    assert names(list(parser.feed(""))) == [("paste", "\x1b[20")]  # end of input


def test_an_end_marker_inside_the_pasted_text_does_not_end_the_paste_early() -> None:
    """A terminal that does not filter pastes sends the clipboard's ``ESC[201~`` as is: the
    ctrl+s after it stays text (the terminal's own end marker comes last in the read)."""
    parser = PasteParser()
    tokens = list(parser.feed(f"{START}hi{END}\x13{START}x{END}"))
    assert names(tokens) == [("paste", "hi[201~\x13[200~x")]
    tokens = list(parser.feed(f"{START}hi{END}\x13"))  # the terminal's own end: keys after it
    assert names(tokens) == [("paste", "hi"), ("key", "ctrl+s")]


async def test_a_hostile_paste_into_the_reply_editor_is_clean_text_said_and_sends_nothing(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    before = messages_of(demo_store)
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        seen = record_notifications(app)
        await pilot.press("H", "i", "space")
        app.post_message(events.Paste(HOSTILE))  # as the driver posts it
        await pilot.press("!")  # typed after the paste: lands after it
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)  # BEL closed it before
        assert reply.editor.text == f"Hi {CLEAN}!"
        assert isinstance(reply.editor, SafeTextArea)
        assert ("warning", "", f"pasted text: {PASTE_REMOVED} control characters removed") in seen
        assert sum("control character" in message for _, _, message in seen) == 1
    assert messages_of(demo_store) == before  # nothing sent


async def test_text_put_into_the_editor_by_the_app_or_a_draft_holds_no_control_character(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        reply = await open_reply(pilot)
        reply.editor.load_text("draft\x1b[2J\u202e")
        assert reply.editor.text == "draft[2J"
        reply.editor.insert("\x9b2J and \x1b]2;T\x07")
        assert reply.editor.text == "2J and ]2;Tdraft[2J"


async def test_a_hostile_paste_into_the_search_box_is_one_clean_line(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = record_notifications(app)
        # As the driver posts them, back to back: the paste waits behind "/" (the key is
        # held until the search screen is ready) and lands in its box, not on the queue.
        app.post_message(events.Key("slash", "/"))
        app.post_message(events.Paste(HOSTILE))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert isinstance(screen.box, SafeInput)
        assert screen.box.value == CLEAN.replace("\n", " ")
        assert ("warning", "", f"pasted text: {PASTE_REMOVED} control characters removed") in seen


async def test_a_paste_into_any_other_text_field_is_cleaned_too_a_dialog_s_included(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """The app cleans every paste before the focused widget gets it: the tags dialog's field
    is Textual's own ``Input``."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = record_notifications(app)
        await pilot.press("t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        box = dialog.query_one(Input)
        box.value = ""
        app.post_message(events.Paste(f"vip {HOSTILE}"))
        await settle(pilot)
        assert box.value == f"vip {CLEAN}".splitlines()[0]  # Textual's Input: the first line
        assert ("warning", "", f"pasted text: {PASTE_REMOVED} control characters removed") in seen


def test_the_app_s_drivers_read_their_input_with_the_paste_parser() -> None:
    """The terminal's (Linux) and the browser's (``serve``: the web driver) input."""
    import textual.drivers.linux_driver as linux
    import textual.drivers.web_driver as web

    from helpdesk_tui.terminal_input import install

    for module, driver in ((linux, linux.LinuxDriver), (web, web.WebDriver)):
        assert install(driver) is driver
        assert module.XTermParser is PasteParser


async def test_a_paste_waits_in_line_with_the_keys_typed_before_it(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """``3`` (a new view: keys wait for its rows), ``/`` and a paste, back to back as a fast
    agent sends them: the paste goes where the keys before it lead, the search box, instead
    of onto the queue's table, where it was lost."""
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for event in (events.Key("3", "3"), events.Key("slash", "/"), events.Paste("tanaka")):
            app.post_message(event)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.box.value == "tanaka"
