"""``y``: copy the ticket number, the customer's e-mail or a message's text, through the terminal.

The copy goes out as OSC 52 (``App.copy_to_clipboard``), which the terminal honours over SSH
too: nothing is needed on the jump host. What is copied is customer text that will be pasted
somewhere (a shell, a chat, another ticket), so it follows the rendering rule first: control
characters and invisible formatting characters are spelled out (``\\x1b``), never carried, so a
message cannot smuggle an escape sequence or a bracketed-paste terminator into the paste.
"""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId
from textual import on, work
from textual.message import Message as TextualMessage

from helpdesk_tui.domain.models import Message, Ticket, User
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog
from helpdesk_tui.workers import WorkFailed

# Messages offered in the chooser, newest first.
MESSAGES_OFFERED = 30


@dataclass(frozen=True)
class Copyable:
    """One thing to copy: what it is (for the toast) and the text, already made safe."""

    what: str
    text: str


def clipboard_text(text: str, *, single_line: bool = False) -> str:
    """``text`` as it may go to the clipboard: controls spelled out; a value (a number, an
    address) also folded onto one line, a message keeping its newlines and tabs."""
    return one_line(text) if single_line else literal(text)


def choices(
    ticket: Ticket, users: dict[ObjectId, User], messages: list[Message] | None = None
) -> list[tuple[str, Copyable, str]]:
    """The chooser's rows: the number, the customer's e-mail, then messages newest first."""
    rows: list[tuple[str, Copyable, str]] = []
    number = clipboard_text(ticket.ticket_number or "", single_line=True)
    if number:
        rows.append(("Ticket number", Copyable(f"ticket number {number}", number), number))
    customer = users.get(ticket.user) if ticket.user else None
    email = clipboard_text(customer.email, single_line=True) if customer else ""
    if email:
        rows.append(("Customer e-mail", Copyable(f"e-mail {email}", email), email))
    for message in list(reversed(messages or []))[:MESSAGES_OFFERED]:
        sender = users.get(message.sender) if message.sender else None
        who = one_line(sender.display if sender else "unknown", 30)
        kind = "Note" if message.is_internal else "Message"
        when = message.created_at.strftime("%d %b %H:%M") if message.created_at else "?"
        what = f"{kind.lower()} from {who}"
        rows.append(
            (
                f"{kind} from {who} · {when}",
                Copyable(what, clipboard_text(message.content)),
                one_line(message.content, 50),
            )
        )
    return rows


class CopyFetched(TextualMessage, bubble=False):
    """A ticket and its people, read for the chooser; ``generation``: which ``y`` asked."""

    def __init__(self, ticket: Ticket, users: dict[ObjectId, User], generation: int) -> None:
        super().__init__()
        self.ticket, self.users, self.generation = ticket, users, generation


class CopyActions(HelpdeskScreen):
    """``offer_copy`` (the chooser, for what the screen has) and ``fetch_and_offer`` (a row of
    a list: the ticket is read first)."""

    _copy_generation = 0

    def offer_copy(
        self, ticket: Ticket, users: dict[ObjectId, User], messages: list[Message] | None
    ) -> None:
        """Open the chooser; the chosen text goes to the terminal's clipboard; a toast says it."""
        rows = choices(ticket, users, messages)
        if not rows:
            self.notify("Nothing here to copy.", severity="warning")
            return

        def chosen(item: Copyable | None) -> None:
            if item is None:
                return
            self.app.copy_to_clipboard(item.text)
            lines = item.text.count("\n") + 1
            size = f" ({lines} lines)" if lines > 1 else ""
            self.notify(f"Copied {one_line(item.what, 70)}{size}.", timeout=4)

        self.app.push_screen(ChoiceDialog(f"Copy from {ticket.label}…", rows), chosen)

    def fetch_and_offer(self, ticket: Ticket) -> None:
        """From a row of a list: one read of the ticket and its people, then the chooser."""
        if not isinstance(ticket.id, ObjectId):  # a foreign _id: what the row holds
            self.offer_copy(ticket, {}, None)
            return
        # Keys typed after `y` (`y enter`) are for the chooser, not for the rows below it.
        self.hold_keys()
        self._copy_generation += 1
        self._fetch_for_copy(ticket.id, self._copy_generation)

    @work(thread=True, exit_on_error=False, group="copy", exclusive=True)
    def _fetch_for_copy(self, ticket_id: ObjectId, generation: int) -> None:
        store = self.helpdesk.store
        full = store.get_ticket(ticket_id)
        users = store.users_by_ids([full.user, *(m.sender for m in full.messages)])
        self.post_message(CopyFetched(full, users, generation))

    @on(CopyFetched)
    def _copy_fetched(self, message: CopyFetched) -> None:
        if message.generation != self._copy_generation:
            return  # a later `y` asked again
        self.offer_copy(message.ticket, message.users, list(message.ticket.messages))
        self.release_keys()  # to the chooser, once it is up

    @on(WorkFailed)
    def _copy_not_fetched(self, message: WorkFailed) -> None:
        if message.work == "_fetch_for_copy":
            self.release_keys()  # said by the app's one error path
