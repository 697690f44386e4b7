"""On the ticket screen: split chosen messages off into a new ticket (``S``).

A dialog lists the ticket's messages, one line each (time, sender, the start of the text);
``space`` marks one, ``enter`` moves the marked ones, ``escape``/``q`` cancel. The split itself
is ``store/merge.py`` ``Merger.split``: one transaction (a new ticket for the same customer, the
messages moved, a note on both sides), all or nothing; a ticket that changed meanwhile is
reported and nothing is moved. A toast names the new ticket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from helpdesk_tui.domain.models import Message, Ticket, User
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.screens.base import HelpdeskScreen, TakesKeys
from helpdesk_tui.store.merge import Merger, SplitResult
from helpdesk_tui.widgets.conversation import Conversation
from helpdesk_tui.widgets.safe import safe

PREVIEW = 60  # characters of a message's first line in the list


def message_line(message: Message, users: Mapping[ObjectId, User]) -> Text:
    """One message as a line of the list: untrusted text, shown literally, on one line."""
    who = users.get(message.sender) if message.sender else None
    sender = one_line(who.name if who and who.name else "unknown sender", 20)
    at = message.created_at.strftime("%d %b %H:%M") if message.created_at else "--"
    kind = "note · " if message.is_internal else ""
    return Text(f"{at} · {sender} · {kind}{one_line(message.content, PREVIEW)}")


class SplitDialog(TakesKeys, ModalScreen[list[ObjectId]]):
    """Mark messages (``space``) and move them (``enter``); ``escape``/``q`` cancel."""

    DEFAULT_CLASSES = "dialog"
    # Every key the dialog takes is a priority binding of the dialog, so that a burst (keys
    # pasted, or held by a laggy link) acts in the order typed: a key left to the list would
    # wait in its queue while a priority `enter` acted before it.
    BINDINGS = [
        Binding("enter", "confirm", "Split", priority=True, id="split_confirm"),
        Binding("escape,q", "cancel", "Cancel", priority=True, id="cancel"),
        Binding("space", "mark", "Mark", priority=True, id="split_mark"),
        Binding("down,j", "down", show=False, priority=True, id="down"),
        Binding("up,k", "up", show=False, priority=True, id="up"),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[Text, ObjectId]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(safe(self.title_text), id="dialog-title")
            yield SelectionList[ObjectId](
                *(Selection(prompt, value) for prompt, value in self.choices),
                id="dialog-options",
            )
            yield Static("space mark · enter split off · esc cancel", id="dialog-help")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(SelectionList))

    def action_confirm(self) -> None:
        marked = list(self.query_one(SelectionList).selected)
        if not marked:
            self.notify("Mark the messages to move with space first.", timeout=3)
            return
        # In the ticket's order, whatever order they were marked in.
        order = {value: n for n, (_, value) in enumerate(self.choices)}
        self.dismiss(sorted(marked, key=lambda value: order.get(value, 0)))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_mark(self) -> None:
        # At once (the list's own `select` toggles on a message, after keys queued behind it).
        options: SelectionList[ObjectId] = self.query_one(SelectionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if isinstance(option, Selection):
                options.toggle(option)

    def action_down(self) -> None:
        self.query_one(SelectionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(SelectionList).action_cursor_up()


class SplitOff(TextualMessage, bubble=False):
    """Messages were moved off into a new ticket."""

    def __init__(self, result: SplitResult) -> None:
        super().__init__()
        self.result = result


class SplitActions(HelpdeskScreen):
    """``start_split`` on the ticket screen: its ``ticket`` and ``users``; ``load`` and
    ``load_context`` show them again after the split."""

    ticket: Ticket | None
    users: dict[ObjectId, User]

    def load(self) -> None:
        raise NotImplementedError

    def load_context(self) -> None:
        raise NotImplementedError

    def start_split(self) -> None:
        """Ask which messages to move, split them off in a worker, toast the new ticket."""
        ticket = self.ticket
        if ticket is None:
            self.notify("The ticket is still loading.", timeout=3)
            return
        if not self._guarded(self.helpdesk.me.require_write):
            return
        choices = [(message_line(m, self.users), m.id) for m in ticket.messages if m.id is not None]
        if len(choices) < 2:
            self.notify("Splitting needs a ticket with two messages or more.", timeout=4)
            return
        source_id = ticket.object_id  # opened by it

        def chosen(marked: list[ObjectId] | None) -> None:
            if marked:
                self._split(source_id, marked, self.helpdesk.me.id)

        self.app.push_screen(
            SplitDialog(f"Split {ticket.label}: move into a new ticket", choices), chosen
        )

    @work(thread=True, exit_on_error=False, group="split")
    def _split(self, source_id: ObjectId, marked: list[ObjectId], me: ObjectId) -> None:
        result = Merger(self.helpdesk.store).split(source_id, marked, actor=me)
        self.post_message(SplitOff(result))

    @on(SplitOff)
    async def _split_off(self, message: SplitOff) -> None:
        result = message.result
        moved = f"{result.moved} message{'' if result.moved == 1 else 's'}"
        self.notify(
            f"Split {moved} off into {one_line(result.created.ticket_number, 20)}.", timeout=6
        )
        await self.query_one(Conversation).clear()  # the moved messages leave the view
        self.load()
        self.load_context()
