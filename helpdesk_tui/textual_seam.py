"""Every use of Textual's internals, in one place (issue 28).

Textual's private modules (``textual._*``), its private names and the private attributes of
its objects are not an API: a minor release may rename or reshape any of them. Each one the app
needs is here, as an alias or a small named function, with the public API that is missing and
why we need it. No other module of the package imports a private Textual module or touches an
attribute this module owns (tests/arch/test_textual_seam.py checks both, and pins each internal's
shape, so an upgrade of Textual fails that one test first).

Private hooks the app's subclasses *override* (a method Textual calls on its own) cannot move
here: Python finds an override on the class. They are listed in ``OVERRIDDEN_HOOKS`` and pinned
by the same test; the calls to Textual's own versions of them (``super()``) go through here.

Not here: Rich's private style and console attributes that terminal_output.py reads for every
cell it writes (``Style._ansi``, ``_link``, ``_color``...): Rich's, not Textual's, and on the
hot path of a repaint.
"""

from __future__ import annotations

import codecs
import functools
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style

# No public key-sequence table: the app reads which ESC+digit sequences Textual maps to a Mac's
# Option+digit characters, to undo that mapping (app.py ``_OPTION_DIGITS``).
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

# No public hook into how an update is written to the terminal: terminal_output.py replaces the
# two update renderers (partial and full repaint) to write only the cells that changed.
from textual._compositor import ChopsUpdate, LayoutUpdate

# No public parser API: terminal_input.py wraps Textual's input parser to read a bracketed
# paste whole (Textual's replays an ESC inside a paste as keys: a pasted ctrl+s sent a reply).
from textual._parser import ParseEOF, ParseTimeout, Peek1, Read1, TokenCallback

# No public mapping type: DataTable keeps row and column positions in one, and the ticket table
# replaces the rows in place (widgets/ticket_table.py ``_replace_rows``).
from textual._two_way_dict import TwoWayDict

# The same: Textual's xterm parser (which terminal_input.py subclasses and puts in its drivers'
# place) and the bracketed-paste markers it knows.
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.app import App
from textual.coordinate import Coordinate
from textual.driver import Driver
from textual.geometry import Region, Size

# No public spelling of a key list (``?`` → ``question_mark``): keymap.py checks [keys] clashes
# in the names set_keymap will use.
from textual.keys import _normalize_key_list as normalize_key_list
from textual.message import Message
from textual.widgets import DataTable, Input, TextArea

if TYPE_CHECKING:
    from textual.binding import BindingsMap
    from textual.dom import DOMNode
    from textual.widgets.data_table import ColumnKey, RowKey

__all__ = [
    "ANSI_SEQUENCES_KEYS",
    "BRACKETED_PASTE_END",
    "BRACKETED_PASTE_START",
    "OVERRIDDEN_HOOKS",
    "ChopsUpdate",
    "LayoutUpdate",
    "ParseEOF",
    "ParseTimeout",
    "Peek1",
    "Read1",
    "TokenCallback",
    "XTermParser",
    "normalize_key_list",
]

# Private methods the app's classes override, by the Textual class that defines them; each is
# Textual calling us where no public hook exists.
OVERRIDDEN_HOOKS: dict[type, tuple[str, ...]] = {
    # app.py: a crash is one line on screen and a private log; Textual prints a traceback with
    # local variables (customer data). No public crash hook.
    App: ("_handle_exception", "_print_error_renderables"),
    # widgets/safe.py: every whole text loaded (constructor, load_text, ``text =``) is cleaned of
    # control characters; no public hook sees them all.
    TextArea: ("_set_document",),
    # widgets/safe.py: a paste is joined into one line instead of Input's first line only.
    Input: ("_on_paste",),
    # widgets/ticket_table.py: a ticking cell repaints its characters, not the table; rows are
    # painted without Rich's layers; no hover highlight; the cursor scrolls by half a page.
    DataTable: (
        "_refresh_region",
        "_update_dimensions",
        "_get_row_style",
        "_render_cell",
        "_set_hover_cursor",
        "_scroll_cursor_into_view",
    ),
}


# --- terminal output and input --------------------------------------------------------------


def replace_update_renderers(
    chops: Callable[[ChopsUpdate, Console], str], layout: Callable[[LayoutUpdate, Console], str]
) -> None:
    """Textual's renderers of a partial and a full repaint, for the whole process."""
    ChopsUpdate.render_segments = chops  # type: ignore[method-assign, assignment]
    LayoutUpdate.render_segments = layout  # type: ignore[method-assign, assignment]


def driver_app(driver: Any) -> App[Any]:
    """The app a driver writes for (no public attribute): its cursor position decides whether
    Textual's cursor park after an update can be left out."""
    app: App[Any] = driver._app
    return app


def replace_drivers_parser(driver_class: type[Driver], parser: type[XTermParser]) -> None:
    """Textual's drivers build their parser from their module's global ``XTermParser`` (no
    parameter): point those modules at ``parser``."""
    for cls in driver_class.__mro__:
        module: Any = sys.modules.get(cls.__module__)
        if getattr(module, "XTermParser", None) is XTermParser:
            module.XTermParser = parser


def lenient_decoder(encoding: str) -> Callable[[], codecs.IncrementalDecoder]:
    """``codecs.getincrementaldecoder``, but its decoders replace a byte that is not
    ``encoding`` (a raw 8-bit C1 byte, line noise on a link) with U+FFFD."""
    return functools.partial(codecs.getincrementaldecoder(encoding), errors="replace")


def replace_drivers_decoder(driver_class: type[Driver]) -> None:
    """Textual's Linux driver decodes its input with a strict UTF-8 decoder made from its
    module's global ``getincrementaldecoder`` (no parameter): one byte that is not UTF-8 raised
    in the input thread and ended the app with a traceback. Point those modules at
    ``lenient_decoder``."""
    for cls in driver_class.__mro__:
        module: Any = sys.modules.get(cls.__module__)
        if getattr(module, "getincrementaldecoder", None) is codecs.getincrementaldecoder:
            module.getincrementaldecoder = lenient_decoder


def serve_web_app(server: Any) -> Any:
    """textual-serve's aiohttp application for ``server`` (Textual's own project; no public
    call): serve.py runs it with the TLS context ``Server.serve`` has no option for. (The
    ``serve`` extra only: this module never imports textual-serve.)"""
    return server._make_app()


# --- the app ----------------------------------------------------------------------------------


def app_keymap(app: App[Any]) -> Mapping[str, str]:
    """The keymap set_keymap stored, normalised (no getter): the footer's palette key."""
    keymap: Mapping[str, str] = app._keymap
    return keymap


def app_driver(app: App[Any]) -> Driver | None:
    """The running driver (no public attribute): an OSC 9 desktop notification is written
    straight to the terminal."""
    return app._driver


def app_exiting(app: App[Any]) -> bool:
    """Whether ``exit()`` was called (no public flag): held keys and feed batches stop then."""
    return app._exit


def default_prevented(message: Message) -> bool:
    """Whether ``prevent_default()`` was called on a message (no public getter)."""
    return message._no_default_action


async def check_bindings(app: App[Any], key: str) -> bool:
    """Run the bindings for ``key`` now, from the focused widget up (no public call): a key
    typed ahead acts before the next one is looked at."""
    return await app._check_bindings(key)


def default_handle_exception(app: App[Any], error: Exception) -> None:
    """Textual's own crash handling (for ``HelpdeskApp._handle_exception`` when debugging)."""
    App._handle_exception(app, error)


def record_app_crash(app: App[Any], error: Exception, return_code: int) -> None:
    """What Textual's crash handler records: the exit code, and the first error, which
    ``run_test`` re-raises for the test framework."""
    app._return_code = return_code
    if app._exception is None:
        app._exception = error
        app._exception_event.set()


def close_message_queues(app: App[Any]) -> None:
    """How Textual's crash handler ends the app (no public call that does not wait)."""
    app._close_messages_no_wait()


def set_return_code(app: App[Any], return_code: int) -> None:
    app._return_code = return_code


def default_print_error_renderables(app: App[Any]) -> None:
    App._print_error_renderables(app)


def drop_error_renderables(app: App[Any]) -> None:
    """Forget what Textual would print at exit (our one line replaces it)."""
    app._exit_renderables.clear()


def merged_bindings(node_class: type) -> BindingsMap | None:
    """A DOM class's bindings merged with its bases' (no public API on a class:
    ``active_bindings`` needs a mounted screen): keymap.py lists every screen's keys and checks
    [keys] clashes without running the app."""
    merged: BindingsMap | None = getattr(node_class, "_merged_bindings", None)
    return merged


# --- footer -----------------------------------------------------------------------------------


def node_bindings(node: DOMNode) -> BindingsMap:
    """A node's own bindings as declared (no public attribute; ``active_bindings`` merges
    the keymap's, which appends rebound keys last)."""
    return node._bindings


# --- data table -------------------------------------------------------------------------------
# No public API sets a table's rows in place or repaints one cell: update_cell and add_row
# repaint the whole table; the ticket table does both for a ticking countdown and a live patch.


def table_cells(table: DataTable[Any]) -> dict[RowKey, dict[ColumnKey, Any]]:
    """The cells by row and column key (the dict itself: writes go to the table)."""
    return table._data


def replace_table_rows(
    table: DataTable[Any],
    cells: dict[RowKey, dict[ColumnKey, Any]],
    order: dict[RowKey, int],
) -> None:
    """New rows in place of the old (``rows`` is public and set by the caller); render caches
    get new keys."""
    table._data = cells
    table._row_locations = TwoWayDict(order)
    table._update_count += 1


def invalidate_table_caches(table: DataTable[Any]) -> None:
    """New keys for the render caches (CPU, not the terminal)."""
    table._update_count += 1


def resize_table_later(table: DataTable[Any]) -> None:
    """The row count changed: dimensions are recomputed on idle."""
    table._require_update_dimensions = True


def row_key_at(table: DataTable[Any], index: int) -> RowKey | None:
    return table._row_locations.get_key(index)


def row_index_of(table: DataTable[Any], key: RowKey) -> int | None:
    return table._row_locations.get(key)


def column_key_at(table: DataTable[Any], index: int) -> ColumnKey | None:
    return table._column_locations.get_key(index)


def column_index_of(table: DataTable[Any], key: ColumnKey) -> int | None:
    return table._column_locations.get(key)


def scroll_update(table: DataTable[Any], size: Size) -> None:
    """The scrollbars follow a new virtual size set without a repaint."""
    table._scroll_update(size)


def hide_hover_cursor(table: DataTable[Any]) -> None:
    table._show_hover_cursor = False


def cell_cache_state(table: DataTable[Any]) -> tuple[bool, int, Any]:
    """What DataTable's cell cache key holds besides the cell: hover shown, the update count
    and the pseudo-class state."""
    return table._show_hover_cursor, table._update_count, table._pseudo_class_state


def cell_render_cache(table: DataTable[Any]) -> Any:
    return table._cell_render_cache


def row_renderables(table: DataTable[Any], index: int) -> Any:
    return table._get_row_renderables(index)


def styles_to_render_cell(table: DataTable[Any], hover: bool, cursor: bool) -> tuple[Style, Style]:
    """A body cell's component and post styles, as DataTable's own cells get them."""
    return table._get_styles_to_render_cell(
        False,
        False,
        False,
        hover,
        cursor,
        table.show_cursor,
        table._show_hover_cursor,
        table.cursor_foreground_priority == "css",
        table.cursor_background_priority == "css",
    )


def row_labels_shown(table: DataTable[Any]) -> bool:
    """Whether the rows are painted behind a label column (a row was given a label)."""
    return table._labelled_row_exists and table.show_row_labels


def cell_region(table: DataTable[Any], coordinate: Coordinate) -> Region:
    return table._get_cell_region(coordinate)


def refresh_table_region(table: DataTable[Any], region: Region) -> None:
    """Repaint a region of the table's content (through the table's own ``_refresh_region``)."""
    table._refresh_region(region)


def default_row_style(table: DataTable[Any], row_index: int, base_style: Style) -> Style:
    return DataTable._get_row_style(table, row_index, base_style)


def default_render_cell(
    table: DataTable[Any],
    row_index: int,
    column_index: int,
    base_style: Style,
    width: int,
    cursor: bool,
    hover: bool,
) -> list[list[Segment]]:
    return DataTable._render_cell(table, row_index, column_index, base_style, width, cursor, hover)


def default_set_document(area: TextArea, text: str, language: str | None) -> None:
    TextArea._set_document(area, text, language)
