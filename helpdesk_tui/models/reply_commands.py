"""What the reply model asks of the store and of the screen: the narrow ``ReplyStore``, the store
calls (commands with a ``run(store)`` the screen calls off the event loop; a ``HelpdeskError``
comes back as a value) and the screen's commands (show, save, hold, confirm, close). Plain
Python, like ``models/reply.py`` which returns them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bson import ObjectId

from helpdesk_tui.domain.errors import HelpdeskError, MergedAway
from helpdesk_tui.domain.models import Status, Ticket, User

Tone = Literal["error", "warning", "information"]
# The store calls a send waits on, by what they are for (``ReplyModel.call_failed``).
StoreCall = Literal["open", "check", "write", "read_back"]


class ReplyStore(Protocol):
    """What the reply needs of the store (``store.tickets.TicketStore`` is one)."""

    def get_ticket(self, ticket_id: ObjectId) -> Ticket: ...

    def users_by_ids(self, ids: Iterable[ObjectId | None]) -> dict[ObjectId, User]: ...

    def before_reply(self, ticket_id: ObjectId) -> tuple[Ticket, dict[ObjectId, User]]: ...

    def add_message(
        self,
        ticket_id: ObjectId,
        *,
        sender: ObjectId,
        content: str,
        internal: bool = False,
        attachments: Sequence[str] = (),
        set_status: Status | None = None,
        expected_updated_at: datetime | None = None,
        message_id: ObjectId | None = None,
    ) -> Ticket: ...

    def message_landed(self, pending: Any) -> bool | None: ...


@dataclass(frozen=True)
class Outgoing:
    """What ``ctrl+s`` sends, read from the widgets on the event loop at the moment of sending.

    The editor is locked until the send finishes, so what goes out is exactly what the agent
    saw when they pressed the key.
    """

    text: str
    internal: bool
    attachments: tuple[str, ...]
    status: Status | None
    # Chosen before the first attempt and kept for every later one of the same text: the store
    # writes a message only where its ``_id`` is not yet, so no retry can deliver it twice.
    message_id: ObjectId = field(default_factory=ObjectId)

    @property
    def fingerprint(self) -> str:
        """What must be unchanged for a new attempt to reuse ``message_id``."""
        what = json.dumps([self.text, self.internal, list(self.attachments)])
        return hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def kind(self) -> str:
        return "note" if self.internal else "reply"


# --- the store calls: run off the event loop by the screen; HelpdeskErrors come back as values.


def load_ticket(store: ReplyStore, ticket_id: ObjectId) -> tuple[Ticket, dict[ObjectId, User]]:
    """The ticket and everyone its conversation names (the opening read, the pane's refresh)."""
    ticket = store.get_ticket(ticket_id)
    ids = [ticket.user, ticket.assigned_to, *(m.sender for m in ticket.messages)]
    return ticket, store.users_by_ids(ids)


@dataclass(frozen=True)
class ReadTicket:
    """The "ticket updated" re-read before the write (bounded: a stall is "not sent")."""

    ticket_id: ObjectId

    def run(self, store: ReplyStore) -> tuple[Ticket, dict[ObjectId, User]] | HelpdeskError:
        try:
            return store.before_reply(self.ticket_id)
        except HelpdeskError as error:
            return error


@dataclass(frozen=True)
class Write:
    """The reply's write: a compare-and-set on what the agent saw, keyed by the message id."""

    ticket_id: ObjectId
    sender: ObjectId
    outgoing: Outgoing
    seen: Ticket

    def run(self, store: ReplyStore) -> Ticket | HelpdeskError:
        outgoing = self.outgoing
        try:
            return store.add_message(
                self.ticket_id,
                sender=self.sender,
                content=outgoing.text,
                internal=outgoing.internal,
                attachments=list(outgoing.attachments),
                set_status=outgoing.status,
                expected_updated_at=self.seen.updated_at,
                message_id=outgoing.message_id,
            )
        except HelpdeskError as error:
            return error


@dataclass(frozen=True)
class ReadBack:
    """Is the unsettled write on the ticket? ``late``: one of the checks after "not there yet"
    (``chain`` says which run of them, ``late_checked`` takes the answer); else the check of an
    UNKNOWN outcome (``read_back`` takes it)."""

    pending: object
    late: bool = False
    chain: int = 0

    def run(self, store: ReplyStore) -> bool | None:
        return None if self.pending is None else store.message_landed(self.pending)


# --- what the screen does --------------------------------------------------------------------


@dataclass(frozen=True)
class CheckAgainLater:
    """The database did not answer the read-back: ask again in a while (``check_again``)."""


@dataclass(frozen=True)
class LateCheckLater:
    """The next late read-back, in a while (``late_check_due(chain)``)."""

    chain: int


@dataclass(frozen=True)
class Refuse:
    """Refused before anything started (empty, too long): one error line, the draft as it is."""

    text: str


@dataclass(frozen=True)
class Say:
    """The outcome: above the editor until the next attempt (``model.outcome``), and a toast."""

    text: str
    tone: Tone


@dataclass(frozen=True)
class Notify:
    """A toast only; ``lasting``: one to read twice (it stays longer)."""

    text: str
    tone: Tone = "information"
    lasting: bool = False


@dataclass(frozen=True)
class SaveDraft:
    """Write the draft now (the editor's text, with ``model.draft_extra()``)."""


@dataclass(frozen=True)
class DiscardDraft:
    internal: bool


@dataclass(frozen=True)
class StartHold:
    """Show the countdown (``model.held``) and take the focus from the editor."""


@dataclass(frozen=True)
class EndHold:
    """Hide the countdown; the focus goes back to the editor."""


@dataclass(frozen=True)
class WaitForTicket:
    """The ticket is still loading: give it the store's read bound, then ``load_too_slow``."""


@dataclass(frozen=True)
class Confirm:
    """Ask "send anyway?" over these changes; the answer goes to ``confirmed``."""

    changes: tuple[str, ...]
    kind: str  # "public reply" / "internal note"


@dataclass(frozen=True)
class OfferMove:
    """The ticket was merged away: offer to move the draft to ``target`` (``draft_moved``)."""

    merged: MergedAway
    kind: str


@dataclass(frozen=True)
class FollowMentions:
    """An internal note was sent: whoever it ``@mentions`` follows the ticket."""

    text: str
    label: str


@dataclass(frozen=True)
class Close:
    """Dismiss the screen; ``sent``: True once the reply is on the ticket."""

    sent: bool | None = None


Command = (
    ReadTicket
    | Write
    | ReadBack
    | CheckAgainLater
    | LateCheckLater
    | Refuse
    | Say
    | Notify
    | SaveDraft
    | DiscardDraft
    | StartHold
    | EndHold
    | WaitForTicket
    | Confirm
    | OfferMove
    | FollowMentions
    | Close
)
