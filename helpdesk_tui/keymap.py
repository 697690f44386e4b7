"""``[keys]`` in the config: every binding remapped by its action name, through Textual's keymap.

Each ``Binding`` of the app's screens, dialogs and widgets carries an ``id`` (its action name:
``reply``, ``status``, ``close``, ``view_3``...). The config maps ids to keys
(``reply = "R"``, ``quit = "ctrl+x,q"``); ``HelpdeskApp`` hands that to ``App.set_keymap``, so
the footer, the help screen and the command palette show the new keys, from the same bindings.

Textual resolves a clash silently (the remapped binding wins and the other loses its key), so
the clashes are found here, before the app starts, per screen (its own bindings, the app's, and
the widgets on it that have keys): ``problems`` names the actions that now share a key, and the
names in ``[keys]`` that are no action at all. ``helpdesk-tui keys`` prints ``effective``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding, BindingsMap, BindingType

from helpdesk_tui.textual_seam import merged_bindings, normalize_key_list

# The app's own bindings, with ids (Textual's defaults have none): remappable like the rest.
APP_BINDINGS: list[BindingType] = [
    Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit_app"),
    Binding(  # as Textual's own (the footer shows it on the right), plus an id
        "ctrl+p",
        "command_palette",
        "palette",
        show=False,
        priority=True,
        tooltip="Open the command palette",
        id="command_palette",
    ),
    # As in a shell, vi or less: write every cell again (after another program wrote over the
    # app). The reply editor keeps ctrl+l for the other draft (its own, priority binding).
    Binding("ctrl+l", "redraw", "Redraw the screen", show=False, id="redraw"),
]


@dataclass(frozen=True)
class KeyRow:
    """One action of one screen and the keys that now trigger it."""

    screen: str
    id: str
    keys: tuple[str, ...]
    description: str
    remapped: bool


def _scopes() -> list[tuple[str, list[type]]]:
    """Each screen with the nodes whose bindings are live on it (imported late: the app
    imports this module, and the screens import the app's context)."""
    from textual.widgets import DataTable, Input, OptionList, SelectionList, TextArea

    from helpdesk_tui.screens.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
    from helpdesk_tui.screens.help import HelpScreen
    from helpdesk_tui.screens.queue import QueueScreen
    from helpdesk_tui.screens.reply import ReplyScreen
    from helpdesk_tui.screens.search import SearchScreen
    from helpdesk_tui.screens.split_actions import SplitDialog
    from helpdesk_tui.screens.ticket import TicketScreen
    from helpdesk_tui.screens.workload import WorkloadScreen
    from helpdesk_tui.widgets.conversation import Conversation
    from helpdesk_tui.widgets.search_results import SearchTable
    from helpdesk_tui.widgets.ticket_table import TicketTable

    return [
        ("queue", [QueueScreen, TicketTable]),
        ("search", [SearchScreen, SearchTable, Input]),
        ("ticket", [TicketScreen, Conversation]),
        ("reply", [ReplyScreen, TextArea]),
        ("workload", [WorkloadScreen, DataTable]),
        ("help", [HelpScreen]),
        ("choice dialog", [ChoiceDialog, OptionList]),
        ("text dialog", [TextDialog, Input]),
        ("confirm dialog", [ConfirmDialog]),
        ("split dialog", [SplitDialog, SelectionList]),
    ]


def _bindings(nodes: Iterable[type], *, app: bool = True) -> list[Binding]:
    """The bindings of ``nodes`` (each class's own and inherited ones), and the app's."""
    found: list[Binding] = []
    for node in nodes:
        merged = merged_bindings(node)
        found += [binding for _key, binding in merged or BindingsMap()]
    if app:
        found += [binding for _key, binding in BindingsMap([*App.BINDINGS, *APP_BINDINGS])]
    return found


def normalise(keymap: Mapping[str, str]) -> dict[str, str]:
    """Textual's spelling of each key list (``?`` → ``question_mark``), as set_keymap does."""
    return {name: normalize_key_list(keys) for name, keys in keymap.items()}


def known_ids() -> set[str]:
    return {b.id for _, nodes in _scopes() for b in _bindings(nodes) if b.id}


def effective(keymap: Mapping[str, str]) -> list[KeyRow]:
    """Every remappable action of every screen with the keys it answers to under ``keymap``."""
    keymap = normalise(keymap)
    rows: list[KeyRow] = []
    scopes: list[tuple[str, list[Binding]]] = [("app", _bindings([], app=True))]
    scopes += [(screen, _bindings(nodes, app=False)) for screen, nodes in _scopes()]
    for screen, bindings in scopes:
        by_id: dict[str, tuple[list[str], str]] = {}
        for binding in bindings:
            if not binding.id:
                continue
            keys, description = by_id.setdefault(binding.id, ([], binding.description))
            keys.append(binding.key)
            if not description and binding.description:
                by_id[binding.id] = (keys, binding.description)
        for ident, (keys, description) in by_id.items():
            mapped = keymap.get(ident)
            now = tuple(mapped.split(",")) if mapped else tuple(dict.fromkeys(keys))
            described = description or ident.replace("_", " ")
            rows.append(KeyRow(screen, ident, now, described, mapped is not None))
    return rows


def problems(keymap: Mapping[str, str]) -> list[str]:
    """What is wrong with ``keymap``: unknown action names, and keys that now trigger two
    actions on one screen (one of them moved there by ``keymap``), named by action."""
    keymap = normalise(keymap)
    said: list[str] = []
    known = known_ids()
    for name in keymap:
        if name not in known:
            said.append(f"[keys] {name}: no such action (see `helpdesk-tui keys`)")
    for screen, nodes in _scopes():
        on_key: dict[str, dict[str, bool]] = {}
        for binding in _bindings(nodes):
            name = binding.id or binding.action
            mapped = keymap.get(binding.id) if binding.id else None
            for key in mapped.split(",") if mapped else [binding.key]:
                on_key.setdefault(key, {})[name] = on_key.get(key, {}).get(name, False) or (
                    mapped is not None
                )
        for key, actions in on_key.items():
            if len(actions) > 1 and any(actions.values()):
                names = " and ".join(sorted(actions))
                said.append(f"[keys] {key} on the {screen} screen: {names} both use it")
    return said
