"""The footer at 80 and 120 columns: every key it shows is whole, the important ones are there.

A hurried new user at 80x24 found the ticket screen's footer cut (``c Cu▏^p palette``) and the
reply screen's without its F2 (conversation) key. What a user sees is the bottom line of the
screen, so these tests read it as text.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import QUIET, MakeApp
from pilot import on_all_open, settle
from screen_text import screen_lines
from textual.pilot import Pilot

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.screens.reply import ReplyScreen
from helpdesk_tui.screens.ticket import TicketScreen
from helpdesk_tui.store.tickets import TicketStore


def footer_line(pilot: Pilot[Any]) -> str:
    return screen_lines(pilot.app)[-1]


def assert_whole(line: str, *items: str) -> None:
    """Each ``items`` ("r Reply") shows whole, and no word is cut at the palette's bar."""
    for item in items:
        assert item in line, f"{item!r} not in footer {line!r}"
    keys = line.split("▏")[0]
    assert not keys.endswith(tuple("abcdefghijklmnopqrstuvwxyz")), f"cut: {line!r}"


async def open_ticket(pilot: Pilot[Any]) -> TicketScreen:
    await on_all_open(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TicketScreen)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_ticket_footer_shows_reply_note_status_assign_back_help_whole(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot)
        line = footer_line(pilot)
        assert_whole(
            line, "r Reply", "i Note", "s Status", "A Assign", "q Back", "? Help", "^p palette"
        )
        if size[0] >= 120:  # wide: the rest too
            assert_whole(line, "p Priority", "a Take", "c Customer")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_queue_footer_shows_every_key_whole(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        line = footer_line(pilot)
        assert_whole(
            line,
            "r Reply",
            "i Note",
            "s Status",
            "a Take",
            "n Next",
            "/ Search",
            "? Help",
            "q Quit",
            "^p palette",
        )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_reply_footer_shows_send_close_and_the_f2_conversation_key(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        line = footer_line(pilot)
        assert_whole(line, "^s Send", "^n +Wait", "^f +Resolve", "^g Close", "f2 Conversation")
        assert_whole(line, "^t Reply/Note", "^r Canned")
        if size[0] >= 120:
            assert_whole(line, "^o Status")


async def test_footer_lays_its_keys_out_again_when_the_terminal_narrows(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ticket(pilot)
        assert "c Customer" in footer_line(pilot)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        line = footer_line(pilot)
        assert_whole(line, "r Reply", "q Back", "? Help", "^p palette")
        assert "c Cu" not in line


async def test_a_remapped_action_keeps_its_place_in_the_footer(
    demo_store: TicketStore, make_app: MakeApp
) -> None:
    """[keys] reply = "x": the footer says "x Reply" where "r Reply" was (first), not at the
    end, where Textual's keymap puts a rebound key."""
    config = Config(keys={"reply": "x"}, ui=UiConfig(poll_interval_seconds=3600))
    app = make_app(demo_store, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = footer_line(pilot)
        assert_whole(line, "x Reply", "i Note")
        assert line.index("x Reply") < line.index("i Note") < line.index("q Quit"), line


async def test_bindings_signals_draw_the_footer_again_only_when_a_key_shown_changes(
    demo_store: TicketStore, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A focus change or a screen switch sends several bindings signals at once; most change no
    key shown. Those draw nothing again; three in a row that grey one key out (reply): the line
    is drawn once more, with that key dim, as Textual greys a key out."""
    from helpdesk_tui.widgets.footer import KeyFooter

    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        footer = queue.query_one(KeyFooter)
        draws = 0
        draw = KeyFooter._draw

        def counted(self: KeyFooter, width: int) -> Any:
            nonlocal draws
            draws += 1
            return draw(self, width)

        monkeypatch.setattr(KeyFooter, "_draw", counted)
        queue.refresh_bindings()
        queue.refresh_bindings()
        queue.refresh_bindings()
        await settle(pilot)
        assert draws == 0  # the same keys: nothing drawn again
        assert_whole(footer_line(pilot), "q Quit", "? Help")

        check_action = type(queue).check_action

        def no_reply(self: Any, action: str, parameters: tuple[object, ...]) -> bool | None:
            return None if action == "reply" else check_action(self, action, parameters)

        monkeypatch.setattr(type(queue), "check_action", no_reply)
        queue.refresh_bindings()
        queue.refresh_bindings()
        queue.refresh_bindings()
        await settle(pilot)
        assert draws == 1
        reply = next(k for k in footer.keys if k.action == "reply")
        assert not reply.enabled
        line = footer.render_line(0)
        reply_cells = [s.style for s in line if "Reply" in s.text or s.text.strip() == "r"]
        other_cells = [s.style for s in line if "Quit" in s.text]
        assert reply_cells and all(style and style.dim for style in reply_cells)
        assert other_cells and not any(style and style.dim for style in other_cells)
        assert_whole(footer_line(pilot), "r Reply", "q Quit", "? Help")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_click_on_a_footer_key_presses_it_and_the_pointer_highlights_it(
    demo_store: TicketStore, make_app: MakeApp, size: tuple[int, int]
) -> None:
    """The footer is one line drawn by one widget (not a widget per key): a key under the
    pointer is highlighted as Textual's are, and a click on it does what the key does."""
    from helpdesk_tui.screens.help import HelpScreen
    from helpdesk_tui.widgets.footer import KeyFooter

    app = make_app(demo_store, config=QUIET)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        assert not list(footer.children)  # no widget per key
        help_key = next(k for k in footer.keys if k.action == "help")
        quit_key = next(k for k in footer.keys if k.action == "quit")

        def background(x: int) -> Any:
            cells = 0
            for segment in footer.render_line(0):
                cells += len(segment.text)
                if cells > x:
                    return segment.style.bgcolor if segment.style else None
            return None

        before = background(help_key.start)
        assert before == background(quit_key.start)
        await pilot.hover(KeyFooter, offset=(help_key.start + 1, 0))
        await settle(pilot)
        assert background(help_key.start) != before  # highlighted
        assert background(quit_key.start) == before
        await pilot.click(KeyFooter, offset=(help_key.start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("width", [120, 45])
async def test_a_key_description_is_drawn_on_one_line_with_its_controls_spelled_out(
    width: int,
) -> None:
    """The footer draws segments itself (no Rich ``Text``, which dropped control codes): a
    description or key display holding an escape sequence, a newline or a bidi override is
    drawn spelled out, on the footer's one line; and measured as drawn, so the palette key
    stays whole on the right (at 45 columns: compact, where it fits; measured raw, the
    description looked 14 cells shorter and the line ran past the edge)."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding

    from helpdesk_tui.widgets.footer import KeyFooter

    class Tiny(App[None]):
        BINDINGS = [Binding("x", "bell", "Wipe\x1b[2J\nnext\u202eline\x9b", id="wipe")]

        def compose(self) -> ComposeResult:
            yield KeyFooter()

    app = Tiny()
    async with app.run_test(size=(width, 10)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        text = "".join(segment.text for segment in footer.render_line(0))
        assert "x Wipe\\x1b[2J next\\u202eline\\x9b" in text, text
        assert not any(c in text for c in "\x1b\n\u202e\x9b")
        assert len(text) == width
        assert text.rstrip().endswith("▏^p palette"), text
        palette = footer.keys[-1]
        assert text[palette.start] == "▏" and palette.end <= width
