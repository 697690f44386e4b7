"""The Textual internals the app uses, pinned: each still exists with the shape the seam
(helpdesk_tui/textual_seam.py) relies on, so a Textual upgrade that moves one fails here, by
name, instead of somewhere in the app. And no module but the seam touches them."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
from pathlib import Path

import pytest
from rich.style import Style
from textual import events
from textual.app import App
from textual.binding import BindingsMap
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.drivers.headless_driver import HeadlessDriver
from textual.widget import Widget
from textual.widgets import DataTable, Input, TextArea
from textual.widgets.data_table import ColumnKey, RowKey

import helpdesk_tui
from helpdesk_tui import textual_seam as seam

PACKAGE = Path(helpdesk_tui.__file__).parent
SEAM = PACKAGE / "textual_seam.py"

# Private modules and names, and what the app takes from each.
PRIVATE_NAMES = [
    ("textual._ansi_sequences", "ANSI_SEQUENCES_KEYS"),
    ("textual._compositor", "ChopsUpdate"),
    ("textual._compositor", "LayoutUpdate"),
    ("textual._parser", "ParseEOF"),
    ("textual._parser", "ParseTimeout"),
    ("textual._parser", "Peek1"),
    ("textual._parser", "Read1"),
    ("textual._parser", "TokenCallback"),
    ("textual._two_way_dict", "TwoWayDict"),
    ("textual._xterm_parser", "BRACKETED_PASTE_END"),
    ("textual._xterm_parser", "BRACKETED_PASTE_START"),
    ("textual._xterm_parser", "XTermParser"),
    ("textual.keys", "_normalize_key_list"),
]

# Private methods called or overridden: their parameters (names, in order).
PRIVATE_METHODS = [
    (App, "_check_bindings", ["self", "key", "priority"]),
    (App, "_close_messages_no_wait", ["self"]),
    (App, "_handle_exception", ["self", "error"]),
    (App, "_print_error_renderables", ["self"]),
    (DataTable, "_get_row_renderables", ["self", "row_index"]),
    (
        DataTable,
        "_get_styles_to_render_cell",
        [
            "self",
            "is_header_cell",
            "is_row_label_cell",
            "is_fixed_style_cell",
            "hover",
            "cursor",
            "show_cursor",
            "show_hover_cursor",
            "has_css_foreground_priority",
            "has_css_background_priority",
        ],
    ),
    (DataTable, "_get_cell_region", ["self", "coordinate"]),
    (DataTable, "_scroll_update", ["self", "virtual_size"]),
    (DataTable, "_refresh_region", ["self", "region"]),
    (DataTable, "_get_row_style", ["self", "row_index", "base_style"]),
    (
        DataTable,
        "_render_cell",
        ["self", "row_index", "column_index", "base_style", "width", "cursor", "hover"],
    ),
    (DataTable, "_update_dimensions", ["self", "new_rows"]),
    (DataTable, "_set_hover_cursor", ["self", "active"]),
    (DataTable, "_scroll_cursor_into_view", ["self", "animate"]),
    (TextArea, "_set_document", ["self", "text", "language"]),
    (Input, "_on_paste", ["self", "event"]),
    (seam.ChopsUpdate, "__init__", ["self", "chops", "spans", "chop_ends"]),
    (seam.ChopsUpdate, "render_segments", ["self", "console"]),
    (seam.LayoutUpdate, "__init__", ["self", "strips", "region"]),
    (seam.LayoutUpdate, "render_segments", ["self", "console"]),
    (seam.XTermParser, "__init__", ["self", "debug"]),
    (seam.XTermParser, "feed", ["self", "data"]),
    (seam.XTermParser, "parse", ["self", "token_callback"]),
]


@pytest.mark.parametrize(("module", "name"), PRIVATE_NAMES, ids=lambda v: str(v))
def test_each_private_name_still_exists(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"


@pytest.mark.parametrize(
    ("owner", "name", "parameters"),
    PRIVATE_METHODS,
    ids=[f"{owner.__name__}.{name}" for owner, name, _ in PRIVATE_METHODS],
)
def test_each_private_method_keeps_its_parameters(
    owner: type, name: str, parameters: list[str]
) -> None:
    method = getattr(owner, name, None)
    assert callable(method), f"{owner.__name__}.{name} is gone"
    assert list(inspect.signature(method).parameters) == parameters


async def test_textual_serves_private_app_factory_is_there() -> None:
    """serve.py hands textual-serve's aiohttp app (``Server._make_app``, a coroutine) to
    ``web.run_app`` itself, with TLS."""
    server = pytest.importorskip("textual_serve.server")
    web = pytest.importorskip("aiohttp.web")
    assert list(inspect.signature(server.Server._make_app).parameters) == ["self"]
    app = await seam.serve_web_app(server.Server("true", host="localhost", port=8000))
    assert isinstance(app, web.Application)


def test_every_overridden_hook_is_pinned() -> None:
    pinned = {(owner, name) for owner, name, _ in PRIVATE_METHODS}
    for owner, names in seam.OVERRIDDEN_HOOKS.items():
        for name in names:
            assert (owner, name) in pinned


def _package_classes() -> list[type]:
    classes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # runs the CLI
        if parts[-1] == "__init__":
            parts.pop()
        module = importlib.import_module(".".join(parts))
        classes += [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and value.__module__ == module.__name__
        ]
    return classes


def test_every_textual_private_method_the_app_overrides_is_listed_in_the_seam() -> None:
    """An override of a private Textual method is a use of Textual's internals too: each one
    must be in ``OVERRIDDEN_HOOKS`` (and so pinned above)."""
    listed = {(owner, name) for owner, names in seam.OVERRIDDEN_HOOKS.items() for name in names}
    unlisted = []
    for cls in _package_classes():
        textual_bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] == "textual"]
        for name, value in vars(cls).items():
            if not (name.startswith("_") and not name.startswith("__")):
                continue
            if not inspect.isfunction(value):
                continue
            owners = [b for b in textual_bases if name in vars(b)]
            if owners and not any((owner, name) in listed for owner in owners):
                unlisted.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert not unlisted, "overrides of Textual's private methods not in OVERRIDDEN_HOOKS: " + str(
        unlisted
    )


def test_the_key_tables_have_the_shape_the_app_reads() -> None:
    # ESC+digit is a Mac's Option+digit character (app.py _OPTION_DIGITS undoes it).
    assert seam.ANSI_SEQUENCES_KEYS["\x1b2"] == "™"
    assert seam.normalize_key_list("?,ctrl+x") == "question_mark,ctrl+x"
    assert seam.BRACKETED_PASTE_START == "\x1b[200~"
    assert seam.BRACKETED_PASTE_END == "\x1b[201~"


def test_the_drivers_build_their_parser_from_a_module_global() -> None:
    """``replace_drivers_parser`` relies on the Linux driver's module naming its parser class."""
    linux = importlib.import_module("textual.drivers.linux_driver")
    assert issubclass(linux.XTermParser, seam.XTermParser)


def test_the_linux_driver_decodes_its_input_with_a_module_global_decoder_factory() -> None:
    """``replace_drivers_decoder`` relies on the Linux driver's input thread making its UTF-8
    decoder from its module's ``getincrementaldecoder``; the lenient one replaces bad bytes."""
    import codecs
    import inspect

    linux = importlib.import_module("textual.drivers.linux_driver")
    assert linux.getincrementaldecoder in (codecs.getincrementaldecoder, seam.lenient_decoder)
    assert 'getincrementaldecoder("utf-8")' in inspect.getsource(linux.LinuxDriver)
    assert seam.lenient_decoder("utf-8")().decode(b"a\x9bb\xe2\x82", final=True) == "a\ufffdb\ufffd"


async def test_the_app_internals_the_seam_reads() -> None:
    app: App[None] = App()
    app.set_keymap({"quit": "?"})
    assert dict(seam.app_keymap(app)) == {"quit": "question_mark"}
    assert seam.app_driver(app) is None
    assert seam.app_exiting(app) is False
    app.exit()
    assert seam.app_exiting(app) is True
    error = RuntimeError("x")
    seam.record_app_crash(app, error, 70)
    assert app.return_code == 70
    assert app._exception is error
    assert isinstance(app._exception_event, asyncio.Event) and app._exception_event.is_set()
    assert isinstance(app._exit_renderables, list)
    seam.drop_error_renderables(app)
    driver = HeadlessDriver(app)
    assert seam.driver_app(driver) is app


def test_prevent_default_is_what_the_seam_reads() -> None:
    key = events.Key("a", "a")
    assert seam.default_prevented(key) is False
    key.prevent_default()
    assert seam.default_prevented(key) is True


def test_the_footer_and_bindings_internals() -> None:
    merged = seam.merged_bindings(DataTable)
    assert isinstance(merged, BindingsMap)
    assert any(binding.action == "cursor_down" for _key, binding in merged)
    assert isinstance(seam.node_bindings(Widget()), BindingsMap)
    assert hasattr(seam.node_bindings(Widget()), "key_to_bindings")


def test_the_data_table_internals_the_seam_reads_and_writes() -> None:
    table: DataTable[str] = DataTable()
    column = ColumnKey("c")
    count = seam.cell_cache_state(table)[1]
    seam.replace_table_rows(table, {RowKey("a"): {column: "x"}}, {RowKey("a"): 0})
    assert seam.cell_cache_state(table)[1] == count + 1
    assert seam.row_key_at(table, 0) == RowKey("a")
    assert seam.row_index_of(table, RowKey("a")) == 0
    assert seam.row_index_of(table, RowKey("b")) is None
    assert seam.table_cells(table) == {RowKey("a"): {column: "x"}}
    assert seam.column_key_at(table, 0) is None and seam.column_index_of(table, column) is None
    seam.invalidate_table_caches(table)
    assert seam.cell_cache_state(table)[1] == count + 2
    seam.hide_hover_cursor(table)
    assert seam.cell_cache_state(table)[0] is False
    assert isinstance(seam.cell_render_cache(table), LRUCache)
    seam.resize_table_later(table)
    assert table._require_update_dimensions is True
    assert seam.row_labels_shown(table) is False
    table._labelled_row_exists = True  # what add_row(..., label=...) sets
    assert seam.row_labels_shown(table) is True
    table.show_row_labels = False
    assert seam.row_labels_shown(table) is False
    assert isinstance(Style(), Style) and isinstance(Coordinate(0, 0), Coordinate)


# --- no module but the seam touches them ------------------------------------------------------


def _named_attribute(node: ast.AST) -> str | None:
    """``x._name`` or ``getattr(x, "_name", ...)`` (also hasattr, setattr): the private name."""
    if isinstance(node, ast.Attribute):
        name = node.attr
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr", "setattr")
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        name = node.args[1].value
    else:
        return None
    return name if name.startswith("_") and not name.startswith("__") else None


def _owned_attributes() -> set[str]:
    """The private attributes the seam reads, writes or calls on Textual's objects."""
    tree = ast.parse(SEAM.read_text(encoding="utf-8"))
    return {name for node in ast.walk(tree) if (name := _named_attribute(node)) is not None}


def _textual_internal_import(node: ast.AST) -> str | None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == "textual" and any(p.startswith("_") for p in parts):
                return alias.name
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        parts = node.module.split(".")
        if parts[0] == "textual":
            if any(p.startswith("_") for p in parts):
                return node.module
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private:
                return f"{node.module}.{private[0]}"
    return None


def test_the_seam_owns_what_it_should() -> None:
    owned = _owned_attributes()
    assert {
        "_data",
        "_row_locations",
        "_keymap",
        "_driver",
        "_app",
        "_bindings",
        "_merged_bindings",
    } <= owned


def test_no_other_module_imports_textual_internals_or_touches_the_seams_attributes() -> None:
    owned = _owned_attributes()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == SEAM:
            continue
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (name := _textual_internal_import(node)) is not None:
                found.append(f"{where}:{node.lineno}: imports {name}")
            elif (attribute := _named_attribute(node)) in owned:
                found.append(f"{where}:{node.lineno}: .{attribute}")
    assert not found, "Textual internals outside textual_seam.py:\n" + "\n".join(found)
