"""``?``: every key of the screen it was opened from (the same bindings the footer reads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from helpdesk_tui.domain.sla import SlaState
from helpdesk_tui.screens.base import TakesKeys, own_bindings
from helpdesk_tui.widgets.footer import declared_order
from helpdesk_tui.widgets.safe import safe_text
from helpdesk_tui.widgets.sla_badge import LOOKS

if TYPE_CHECKING:
    from helpdesk_tui.views import View


@runtime_checkable
class ShowsViews(Protocol):
    """A screen whose number keys pick one of its ``views`` (the queue). A protocol, not the
    queue's class: a screen never imports another (the screens/ contract in pyproject.toml)."""

    views: list[View]


# Keys that move rather than act, summed up here instead of listing each widget's bindings.
MOVEMENT = {
    "QueueScreen": [("↑ ↓  j k", "move the cursor"), ("PgUp PgDn  g G", "page, top, bottom")],
    "WorkloadScreen": [("↑ ↓  j k", "move the cursor")],
    "PulseScreen": [("↑ ↓ PgUp PgDn", "scroll the charts")],
    "TicketScreen": [("↑ ↓ PgUp PgDn", "scroll the conversation")],
}


# Actions bound once per number (``view(3)``), each summed up in one row: its keys, then this,
# then where the numbers are shown (the keys of that action, as bound now), if it is bound here.
NUMBERED = {
    "view": ("switch view", None),
    "open_other": ("open the customer's ticket of that number", "context"),
}


def binding_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(keys, description) for each distinct action bound on ``screen``, then the summaries."""
    seen: dict[str, tuple[list[str], str]] = {}
    app = screen.app
    numbered: dict[str, list[tuple[int, str]]] = {}  # [keys] may have moved them off 1…9
    palette = "ctrl+p"
    for active in screen.active_bindings.values():
        if active.binding.action == "command_palette":
            palette = active.binding.key  # one row, below
    # The screen's own actions, by the palette's rule (Textual's generic keys left out);
    # widgets' keys that move rather than act are summed up in MOVEMENT.
    for binding in own_bindings(screen):
        if binding.action == "command_palette":
            continue
        name, _, argument = binding.action.partition("(")
        if name in NUMBERED and argument:
            index = argument.removesuffix(")")
            numbered.setdefault(name, []).append(
                (int(index) if index.isdigit() else 99, app.get_key_display(binding))
            )
            continue  # one row for all of them, below
        keys, _ = seen.setdefault(binding.action, ([], binding.description))
        keys.append(screen.app.get_key_display(binding))
    # In the order the screen declares them: a key [keys] moved keeps its action's place (the
    # keymap appends the rebound keys last).
    order = declared_order(screen)
    ordered = sorted(seen.items(), key=lambda item: order.get(item[0], len(order)))
    rows = [(" ".join(dict.fromkeys(keys)), description) for _, (keys, description) in ordered]
    views = screen.views if isinstance(screen, ShowsViews) else None
    if not views:
        numbered.pop("view", None)
    for name, (description, listed_by) in NUMBERED.items():
        if name not in numbered:
            continue
        shown = [key for _, key in sorted(numbered[name])]
        if name == "view":
            shown = shown[: len(views or ())]
        if listed_by in seen:
            description += f" (listed with {' or '.join(dict.fromkeys(seen[listed_by][0]))})"
        default = [str(n) for n in range(1, len(shown) + 1)]
        label = f"1…{len(shown)}" if shown == default else " ".join(shown)
        rows.append((label, description))
    rows += MOVEMENT.get(type(screen).__name__, [])
    rows.append((palette, "command palette: every action by name"))
    return rows


class HelpScreen(TakesKeys, ModalScreen[None]):
    BINDINGS = [Binding("q,escape,question_mark", "close", "Close", priority=True, id="close_help")]

    def __init__(self, origin: Screen[object]) -> None:
        super().__init__()
        self.origin = origin

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_row(Text("Keys", style="bold underline"), "")
        for keys, description in binding_rows(self.origin):
            # Plain text: keys come from the config's [keys] (a str would be read as markup).
            table.add_row(safe_text(keys), safe_text(description))
        table.add_row("", "")
        table.add_row(Text("SLA", style="bold underline"), "")
        meaning = {
            SlaState.BREACHED: "past its deadline (countdown negative)",
            SlaState.AT_RISK: "under 25% of its target left",
            SlaState.ON_TRACK: "running, plenty of time",
            SlaState.PAUSED: "resolution clock paused while waiting on the customer",
            SlaState.MET: "resolved or closed",
        }
        for state, look in LOOKS.items():
            table.add_row(Text(f"{look.symbol} {look.word}", style=look.style), meaning[state])
        table.add_row("", "")
        table.add_row(Text("Marks", style="bold underline"), "")
        table.add_row("↩", "the customer wrote last")
        table.add_row("⚠", "malformed document: shown as far as it can be read")
        table.add_row(
            "●",
            "selected (space, which also moves down) for a bulk action; a new view or a new"
            " sort clears the selection and says so",
        )
        with VerticalScroll(id="help"):
            yield Static(f"Help: {self.origin_name()}", id="help-title")
            yield Static(table)
            yield Static("q, escape or ? closes this help", id="help-footer")

    def origin_name(self) -> str:
        """What the agent calls the screen: "Queue", "Ticket", "Reply" (not a class name)."""
        name = type(self.origin).__name__.removesuffix("Screen")
        return {"AgentQueue": "Queue", "Workload": "Team workload", "Pulse": "Team pulse"}.get(
            name, name
        )

    def action_close(self) -> None:
        self.dismiss()
