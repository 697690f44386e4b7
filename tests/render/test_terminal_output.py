"""What reaches the terminal for a changed part of a line (helpdesk_tui/terminal_output.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from helpers import MakeApp
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.driver import Driver
from textual.geometry import Offset, Region
from textual.strip import Strip

from helpdesk_tui.terminal_output import TERMINAL, install, quiet_driver, redraw_everything
from helpdesk_tui.textual_seam import ChopsUpdate, LayoutUpdate

install()
RED = Style(color="red")


@pytest.fixture(autouse=True)
def no_session_left_running() -> Iterator[None]:
    """A test that leaves its quiet session on (no ``stop_application_mode``) left the look of
    its last update on for the next test in the same worker: that test's expected colour code
    was then left out (seen with ``-n 2``, where a worker may run this file's later tests
    first)."""
    yield
    fresh = type(TERMINAL)()  # as the process starts: nothing known, nothing kept
    for name in vars(fresh):
        setattr(TERMINAL, name, getattr(fresh, name))


def written(text: str, x1: int, x2: int) -> str:
    strip = Strip([Segment(text, RED)])
    update = ChopsUpdate([{0: strip}], [(0, x1, x2)], [[strip.cell_length]])
    console = Console(file=io.StringIO(), color_system="standard", force_terminal=True)
    return update.render_segments(console)


def test_a_changed_countdown_mid_line_writes_only_its_characters() -> None:
    line = "    ● 2h 13m  TKT-000001"
    assert written(line, 10, 12) == "\x1b[1;11H\x1b[31m3m\x1b[0m"


def test_a_change_after_a_wide_character_cut_writes_from_the_line_start() -> None:
    line = "界 2h 13m"  # the change starts inside the double-width character's cells
    assert written(line, 1, 4) == "\x1b[1H\x1b[31m界 2\x1b[0m"


def test_the_next_chop_after_the_span_gets_no_stray_cursor_move() -> None:
    rows, bar = Strip([Segment("abc", RED)]), Strip([Segment("|", RED)])  # e.g. a scrollbar
    update = ChopsUpdate([{0: rows, 3: bar}], [(0, 0, 3)], [[3, 4]])
    console = Console(file=io.StringIO(), color_system="standard", force_terminal=True)
    assert update.render_segments(console) == "\x1b[1H\x1b[31mabc\x1b[0m"


def rendered(lines: dict[int, list[Segment]], width: int) -> str:
    """Whole lines ``y -> segments`` of ``width`` cells, written as one update."""
    chops = [{0: Strip(lines[y])} if y in lines else {} for y in range(max(lines) + 1)]
    update = ChopsUpdate(chops, [(y, 0, width) for y in sorted(lines)], [[width]] * len(chops))
    console = Console(file=io.StringIO(), color_system="256", force_terminal=True)
    return update.render_segments(console)


def test_a_cursor_move_rewrites_two_adjacent_rows_with_one_move_and_no_reset_between() -> None:
    """A cursor moving down repaints the row it left and the row it reached: the second row
    is reached by CR LF, its look needs no reset first (it sets every colour the first did),
    and one reset ends the update."""
    plain, cursor = Style(color="red", bgcolor="grey15"), Style(color="white", bgcolor="blue")
    out = rendered({4: [Segment("row one", plain)], 5: [Segment("row two", cursor)]}, 7)
    assert out == "\x1b[5H\x1b[31;48;5;235mrow one\r\n\x1b[37;44mrow two\x1b[0m"


def test_a_look_that_drops_an_attribute_or_a_colour_starts_with_a_reset() -> None:
    bold, plain = Style(bold=True, color="red"), Style(color="red", bgcolor="blue")
    assert rendered({0: [Segment("a", bold), Segment("b", plain)]}, 2) == (
        "\x1b[1H\x1b[1;31ma\x1b[0;31;44mb\x1b[0m"
    )
    coloured, default = Style(bgcolor="blue"), Style(color="red")
    assert rendered({0: [Segment("a", coloured), Segment("b", default)]}, 2) == (
        "\x1b[1H\x1b[44ma\x1b[0;31mb\x1b[0m"
    )


def test_segments_with_one_look_share_one_code_and_unstyled_text_follows_a_reset() -> None:
    red = Style(color="red")
    out = rendered({0: [Segment("ab", red), Segment("cd", red), Segment("ef")]}, 6)
    assert out == "\x1b[1H\x1b[31mabcd\x1b[0mef"


def test_lines_that_are_not_adjacent_are_reached_by_a_cursor_move() -> None:
    red = Style(color="red")
    out = rendered({0: [Segment("a", red)], 2: [Segment("b", red)]}, 1)
    assert out == "\x1b[1H\x1b[31ma\x1b[3Hb\x1b[0m"


class Recorder:
    """The part of a driver the filter relies on: its app, the modes and a ``write`` (kept)."""

    def __init__(self, app: object) -> None:
        self._app = app
        self.written: list[str] = []

    def start_application_mode(self) -> None:
        self.written.append("<start>")

    def stop_application_mode(self) -> None:
        self.write("\x1b[?1049l")

    def write(self, data: str) -> None:
        self.written.append(data)


def quiet_session(app: object) -> Recorder:
    driver = cast(Recorder, quiet_driver(cast("type[Driver]", Recorder))(app))  # type: ignore[arg-type]
    driver.start_application_mode()
    return driver


def update(driver: Recorder, lines: dict[int, list[Segment]], width: int) -> None:
    """Render ``lines`` and write them as Textual's ``App._display`` does (park included)."""
    driver.write(rendered(lines, width) + "\x1b[1;1H")


def test_with_the_app_running_an_update_leaves_its_look_on_for_the_next_one() -> None:
    """Two countdown digits turning in two updates: the second needs no colour code and
    neither a reset (~10 bytes instead of 33); leaving the app writes the reset first."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    red = Style(color="red", bgcolor="grey15")
    update(driver, {3: [Segment("1", red)]}, 1)
    update(driver, {7: [Segment("2", red)]}, 1)
    driver.write("\x1b[?25l")  # not an update: a reset first, as Textual expects
    update(driver, {5: [Segment("3", red)]}, 1)
    driver.stop_application_mode()
    assert driver.written == [
        "<start>",
        "\x1b[4H\x1b[31;48;5;235m1",
        "\x1b[8H2",
        "\x1b[0m\x1b[?25l",
        "\x1b[6H\x1b[31;48;5;235m3",
        "\x1b[0m\x1b[?1049l",
    ]


def test_the_cursor_park_after_an_update_is_dropped_unless_a_widget_placed_the_cursor() -> None:
    """Textual ends every update with a move to the app's cursor position (6 bytes per
    countdown change); with no widget asking for the cursor it parks at the origin for
    nothing, and is left out. An input's cursor position is kept (IME windows use it)."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    red = Style(color="red")
    update(driver, {0: [Segment("1", red)]}, 1)
    app.cursor_position = Offset(7, 2)
    driver.write(rendered({0: [Segment("2", red)]}, 1) + "\x1b[3;8H")
    app.cursor_position = Offset(0, 0)
    driver.stop_application_mode()
    assert driver.written == [
        "<start>",
        "\x1b[1H\x1b[31m1",
        "\x1b[1H2\x1b[3;8H",
        "\x1b[0m\x1b[?1049l",
    ]


def test_cells_that_already_show_what_textual_repaints_are_skipped_until_a_redraw() -> None:
    """A toast painted twice, a row replaced by one with the same columns: only the cells that
    differ are written (gaps of a few cells are rewritten rather than jumped). After
    ``redraw_everything`` (the palette's "Redraw the screen") every cell is written again."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    red = Style(color="red")
    update(driver, {2: [Segment("TKT-000147  med   in prog", red)]}, 25)
    update(driver, {2: [Segment("TKT-000147  med   in prog", red)]}, 25)  # the same again
    update(driver, {2: [Segment("TKT-000120  low   in prog", red)]}, 25)  # another ticket
    update(driver, {2: [Segment("TKT-000120  low   waiting", red)]}, 25)
    redraw_everything()
    update(driver, {2: [Segment("TKT-000120  low   waiting", red)]}, 25)
    driver.stop_application_mode()
    assert driver.written == [
        "<start>",
        "\x1b[3H\x1b[31mTKT-000147  med   in prog",
        # nothing for the same cells
        "\x1b[3;9H20  low",  # "20", two unchanged cells rewritten, "low"
        "\x1b[3;19Hwaitin",  # the final "g" was there
        "\x1b[3HTKT-000120  low   waiting",
        "\x1b[0m\x1b[?1049l",
    ]


def full(driver: Recorder, lines: list[str], width: int) -> None:
    """A full repaint (``LayoutUpdate``, as Textual writes one for a new screen or layout)."""
    strips = [[Strip([Segment(line.ljust(width), RED)])] for line in lines]
    update = LayoutUpdate(strips, Region(0, 0, width, len(lines)))
    console = Console(file=io.StringIO(), color_system="256", force_terminal=True)
    driver.write(update.render_segments(console) + "\x1b[1;1H")


def test_a_full_repaint_at_the_same_size_writes_only_the_cells_that_changed() -> None:
    """A view switch or a screen pushed over the queue is a full repaint in Textual: it wrote
    every cell of the terminal (10 kB a view switch at 120x40), though the top bar, the
    footer and the table's header were already there. At another size, or after a resize
    (the terminal may have reflowed), every cell is written."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    full(driver, ["helpdesk-tui", "TKT-000147 open", "r Reply"], 16)
    full(driver, ["helpdesk-tui", "TKT-000120 open", "r Reply"], 16)  # another view
    full(driver, ["helpdesk-tui", "TKT-000120 open", "r Reply", "q Quit"], 16)  # taller
    redraw_everything()  # what a Resize does
    full(driver, ["helpdesk-tui", "TKT-000120 open", "r Reply", "q Quit"], 16)
    driver.stop_application_mode()
    assert driver.written == [
        "<start>",
        "\x1b[1H\x1b[31mhelpdesk-tui    \r\nTKT-000147 open \r\nr Reply         ",
        "\x1b[2;9H20",
        "\x1b[1Hhelpdesk-tui    \r\nTKT-000120 open \r\nr Reply         \r\nq Quit          ",
        "\x1b[1Hhelpdesk-tui    \r\nTKT-000120 open \r\nr Reply         \r\nq Quit          ",
        "\x1b[0m\x1b[?1049l",
    ]


def test_after_an_emoji_with_its_selector_a_change_is_written_where_the_compositor_put_it() -> None:
    """ "⚠️" is a sign and the emoji selector U+FE0F: two cells for Rich and Textual, one for a
    count by code point. Counted so, every later cell of the line was placed a column early:
    "⚠️ refund  open" turning "done" showed "⚠️ refund donen"."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    full(driver, ["⚠️ refund  open"], 16)
    full(driver, ["⚠️ refund  done"], 16)
    driver.stop_application_mode()
    assert driver.written[2] == "\x1b[1;12Hdone"
    # A partial update that starts after it: the cut falls between characters.
    assert written("❤️ 2h 13m", 6, 8) == "\x1b[1;7H\x1b[31m13\x1b[0m"


async def test_ctrl_l_and_a_resize_back_to_the_same_size_repaint_every_cell(
    demo_store: Any, make_app: MakeApp, monkeypatch: Any
) -> None:
    """Only changed cells are written, so text another program left on the terminal stays
    until everything is repainted: ctrl+l does it (as in a shell). A resize to a new size is
    Textual's to repaint. (A resize back to the app's size, and the start's two Resizes, need
    a real terminal: test_terminal_screen.py.)"""
    from pilot import settle

    from helpdesk_tui.config import Config, UiConfig

    app = make_app(demo_store, config=Config(ui=UiConfig(poll_interval_seconds=3600)))
    redraws: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        real = app.action_redraw
        monkeypatch.setattr(app, "action_redraw", lambda: (redraws.append("redraw"), real()))
        assert redraws == []  # the start's own Resize asks for nothing more
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert redraws == ["redraw"]
        await pilot.resize_terminal(100, 30)  # a new size: Textual repaints it all itself
        await settle(pilot)
        assert redraws == ["redraw"]


def test_a_combining_mark_in_the_next_segment_stays_on_its_letter() -> None:
    """Plain ASCII text is one cell per character; an accent that Textual put in the next
    segment ("cafe" then U+0301) still joins the "e" before it, so "done" lands in column 6."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    for word in ("open", "done"):
        strip = Strip([Segment("cafe", RED), Segment(f"\u0301 {word}   ", RED)])
        update = LayoutUpdate([[strip]], Region(0, 0, 12, 1))
        console = Console(file=io.StringIO(), color_system="256", force_terminal=True)
        driver.write(update.render_segments(console) + "\x1b[1;1H")
    driver.stop_application_mode()
    assert driver.written[2] == "\x1b[1;6Hdone"


def test_cells_drawn_past_the_new_edge_after_a_shrink_are_not_trusted_by_the_next_repaint() -> None:
    """Just after the terminal shrank (16 columns to 12), an update drawn for the old width
    writes past the new edge, where the terminal squeezes it into the last column: the next
    full repaint must write every cell, though the ones before the edge look unchanged."""
    app = SimpleNamespace(cursor_position=Offset(0, 0))
    driver = quiet_session(app)
    full(driver, ["aaaaaaaaaaaaaaaa"], 16)
    redraw_everything()  # the Resize to 12 columns
    update(driver, {0: [Segment("bbbbbbbbbbbbbbXY", RED)]}, 16)  # drawn for 16 columns
    before = len(driver.written)
    full(driver, ["bbbbbbbbbbbb"], 12)
    assert "bbbbbbbbbbbb" in "".join(driver.written[before:])
