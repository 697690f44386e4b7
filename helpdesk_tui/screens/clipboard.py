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

from helpdesk_tui.domain.models import Message, Ticket, User
from helpdesk_tui.domain.text import literal, one_line
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.screens.dialogs import ChoiceDialog

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


def offer_copy(
    screen: HelpdeskScreen,
    ticket: Ticket,
    users: dict[ObjectId, User],
    messages: list[Message] | None,
) -> None:
    """Open the chooser; the chosen text goes to the terminal's clipboard, and a toast says it."""
    rows = choices(ticket, users, messages)
    if not rows:
        screen.notify("Nothing here to copy.", severity="warning")
        return

    def chosen(item: Copyable | None) -> None:
        if item is None:
            return
        screen.app.copy_to_clipboard(item.text)
        lines = item.text.count("\n") + 1
        size = f" ({lines} lines)" if lines > 1 else ""
        screen.notify(f"Copied {one_line(item.what, 70)}{size}.", timeout=4)

    screen.app.push_screen(ChoiceDialog(f"Copy from {ticket.label}…", rows), chosen)


def fetch_and_offer(screen: HelpdeskScreen, ticket: Ticket) -> None:
    """From a row of the queue: one read of the ticket and its people, then the chooser."""
    if ticket.id is None:
        offer_copy(screen, ticket, {}, None)
        return
    store, ticket_id = screen.helpdesk.store, ticket.id

    def fetch() -> tuple[Ticket, dict[ObjectId, User]]:
        full = store.get_ticket(ticket_id)
        return full, store.users_by_ids([full.user, *(m.sender for m in full.messages)])

    def show(result: tuple[Ticket, dict[ObjectId, User]]) -> None:
        full, users = result
        offer_copy(screen, full, users, list(full.messages))
        screen.release_keys()  # to the chooser, once it is up

    # Keys typed after `y` (`y enter`) are for the chooser, not for the queue's rows.
    screen.hold_keys()
    screen.call_store(fetch, show, group="copy", exclusive=True, failed=screen.release_keys)
