"""An open ticket and its audit trail in one round trip (issue 14: the open ticket re-reads
itself on every change event, so what it reads per event is one command, not two).

Issue 29: only what the screen shows first crosses the wire. The read is a window of the
conversation: its newest ``TAIL`` messages (or, on a re-read, every message after the newest
one shown, if that is more), each body cut at ``BODY_CHARS`` by the server; the counts and the
derived fields a whole conversation gives (first response, newest message, whose turn) are
computed by the server from all of it. Older messages come a page at a time
(``earlier_messages``) as the agent scrolls up to them, a cut body whole on demand
(``full_bodies``). Every expression is a MongoDB 6 one (``$slice`` with a position,
``$indexOfArray``, ``$substrCP``, ``$strLenCP``, ``$mergeObjects``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from helpdesk_tui.domain.errors import NotFound
from helpdesk_tui.domain.models import Ticket
from helpdesk_tui.store.audit import HISTORY_LIMIT
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.lenient import EVENTS
from helpdesk_tui.store.tickets import TicketStore, as_object_id

HISTORY = "_history"
TAIL = 50  # messages read on open: a few screens of the newest (a box is at least 4 lines)
PAGE = 100  # messages read each time the agent scrolls up to the oldest one read
BODY_CHARS = 20_000  # a body longer than this is cut by the server (the screen's preview)
FULL_LENGTH = "_fullLength"  # added to a cut message: its whole length, in code points
START = "_windowStart"  # the position in ``messages`` of the first message read
FOLLOWS = "_follows"  # the window continues what the caller read before
DESCRIPTION = "description"
# The fields of ``Ticket`` read as stored (``messages`` and ``description`` are cut, the
# derived ones computed): a ``$project`` names what it keeps.
TICKET_FIELDS = (
    *("_id", "ticketNumber", "subject", "user", "order", "category", "priority", "status"),
    *("assignedTo", "tags", "resolvedAt", "closedAt", "createdAt", "updatedAt", "__v"),
)
DESCRIPTION_LENGTH = "_descriptionLength"


@dataclass(frozen=True)
class OpenedTicket:
    """A window of an open ticket: ``ticket.messages`` are ``messages[start:]`` (a tail read)
    or ``messages[start:start + len]`` (an earlier page); ``ticket.message_count`` is the
    whole conversation's. Unpacks as ``(ticket, events)``, as ``ticket_and_history`` did."""

    ticket: Ticket
    events: list[dict[str, Any]]
    start: int = 0
    follows: bool = True  # continues what the caller read before (see ``ticket_and_history``)
    cut: dict[Any, int] = field(default_factory=dict)  # message _id (or "description") → length

    def __iter__(self) -> Iterator[Any]:
        yield self.ticket
        yield self.events

    @property
    def total(self) -> int:
        return self.ticket.message_count


def _messages() -> dict[str, Any]:
    return {"$cond": [{"$isArray": "$messages"}, "$messages", []]}


def _id_at(position: Any) -> dict[str, Any]:
    """The ``_id`` of ``messages[position]`` (missing past the end): one element, no scan."""
    return {"$let": {"vars": {"m": {"$arrayElemAt": [_messages(), position]}}, "in": "$$m._id"}}


def _cut(value: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``value`` (a string expression) cut at ``BODY_CHARS``; a non-string is left as it is
    (the model says what is wrong with it)."""
    return {
        "$cond": [
            {"$eq": [{"$type": value}, "string"]},
            {
                "$cond": [
                    {"$gt": [{"$strLenCP": value}, BODY_CHARS]},
                    {"$substrCP": [value, 0, BODY_CHARS]},
                    value,
                ]
            },
            value,
        ]
    }


def _cut_message() -> dict[str, Any]:
    """``$$m`` with its content cut, and its whole length beside it when it was."""
    long = {
        "$and": [
            {"$eq": [{"$type": "$$m"}, "object"]},
            {"$eq": [{"$type": "$$m.content"}, "string"]},
        ]
    }
    return {
        "$cond": [
            long,
            {
                "$cond": [
                    {"$gt": [{"$strLenCP": "$$m.content"}, BODY_CHARS]},
                    {
                        "$mergeObjects": [
                            "$$m",
                            {
                                "content": {"$substrCP": ["$$m.content", 0, BODY_CHARS]},
                                FULL_LENGTH: {"$strLenCP": "$$m.content"},
                            },
                        ]
                    },
                    "$$m",
                ]
            },
            "$$m",
        ]
    }


def _window(start: Any, count: Any) -> dict[str, Any]:
    """``messages[start:start + count]``, each body cut; a non-array stays as stored."""
    # ``$slice`` wants a count above 0: an empty window is the empty array instead.
    sliced = {
        "$cond": [
            {"$gt": [count, 0]},
            {"$slice": [_messages(), start, {"$max": [count, 1]}]},
            [],
        ]
    }
    return {
        "$cond": [
            {"$isArray": "$messages"},
            {"$map": {"input": sliced, "as": "m", "in": _cut_message()}},
            "$messages",
        ]
    }


def _first(among: Any, cond: dict[str, Any], field: str, index: int) -> dict[str, Any]:
    """``field`` of the element ``index`` (0 first, -1 last) of ``among`` filtered by ``cond``
    (on ``$$m``); null when none is."""
    chosen = {"$filter": {"input": among, "as": "m", "cond": cond}}
    last = {"$arrayElemAt": [chosen, index]}
    return {"$ifNull": [{"$let": {"vars": {"m": last}, "in": f"$$m.{field}"}}, None]}


def _derived(window: int) -> dict[str, Any]:
    """What ``queries.row_fields`` derives from the whole conversation (first response, count,
    newest message, whose turn), never absent (``Ticket`` would derive them from the window).
    The same values, with less work for the server: the first agent reply is looked for in
    the first ``window`` messages, the last public one in the last ``window``, and only when
    they hold none in all of them (``$cond`` evaluates one branch)."""
    messages = _messages()
    agent_public = {"$and": [{"$ne": ["$$m.isInternal", True]}, {"$ne": ["$$m.sender", "$user"]}]}
    public = {"$ne": ["$$m.isInternal", True]}
    head = {"$slice": [messages, window]}
    tail = {"$slice": [messages, -window]}

    def either(quick: dict[str, Any], whole: dict[str, Any]) -> dict[str, Any]:
        return {"$ifNull": [quick, whole]}

    first_reply = either(
        _first(head, agent_public, "createdAt", 0), _first(messages, agent_public, "createdAt", 0)
    )
    # The last public message's sender, or "" for none (not null: null is the quick miss).
    last_public = {
        "$ifNull": [
            _first(tail, public, "sender", -1),
            {"$ifNull": [_first(messages, public, "sender", -1), ""]},
        ]
    }
    last = {"$let": {"vars": {"m": {"$arrayElemAt": [messages, -1]}}, "in": "$$m.createdAt"}}
    return {
        "_firstResponseAt": first_reply,
        "_messageCount": {"$size": messages},
        "_lastMessageAt": {"$ifNull": [last, None]},
        "_lastFromCustomer": {"$eq": [last_public, "$user"]},
    }


def _description() -> dict[str, Any]:
    """The description cut as a body is, and its whole length."""
    description = "$description"
    length = {
        "$cond": [
            {"$eq": [{"$type": description}, "string"]},
            {"$strLenCP": description},
            None,
        ]
    }
    return {DESCRIPTION: _cut(description), DESCRIPTION_LENGTH: length}


def _history(store: TicketStore) -> dict[str, Any]:
    return {
        "$lookup": {
            "from": store.events.name,
            "localField": "_id",
            "foreignField": "ticket",
            "pipeline": [{"$sort": {"at": 1}}, {"$limit": HISTORY_LIMIT}],
            "as": HISTORY,
        }
    }


def _read(store: TicketStore, pipeline: list[dict[str, Any]], ticket_id: Any) -> dict[str, Any]:
    doc = next(iter(store.tickets.aggregate(pipeline)), None)
    if doc is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return doc


def _opened(doc: dict[str, Any], events: list[dict[str, Any]]) -> OpenedTicket:
    cut: dict[Any, int] = {}
    messages = doc.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict) and FULL_LENGTH in message:
                cut[message.get("_id")] = message.pop(FULL_LENGTH)
    length = doc.pop(DESCRIPTION_LENGTH, None)
    if isinstance(length, int) and length > BODY_CHARS:
        cut[DESCRIPTION] = length
    start, follows = doc.pop(START, 0), doc.pop(FOLLOWS, True)
    return OpenedTicket(Ticket.from_mongo(doc), events, start, bool(follows), cut)


@db_errors
def ticket_and_history(
    store: TicketStore,
    ticket_id: ObjectId | str,
    *,
    after: tuple[int, ObjectId | None] | None = None,
    tail: int = TAIL,
) -> OpenedTicket:
    """The ticket by ``_id``, a window of its conversation and its audit entries (oldest
    first, at most ``HISTORY_LIMIT``), in one aggregation: a ``$lookup`` on the events'
    ``ticket_timeline`` index (equality on ``ticket``, sorted by ``at``).

    The window: the newest ``tail`` messages; or, ``after=(count, id)`` (a re-read: the
    count read last time and the ``_id`` of the last message then), every message pushed
    since, however many (a burst of new messages leaves no gap). ``follows`` says whether
    the window follows what was read: ``messages[count - 1]`` is still that message (else a
    merge or a split moved the messages: the caller shows the window afresh)."""
    oid = as_object_id(ticket_id)
    size = {"$size": _messages()}
    newest = {"$max": [0, {"$subtract": [size, tail]}]}
    start: Any = newest
    follows: Any = {"$literal": True}  # (a bare 0 or 1 in $project would name a field)
    if after is not None:
        count, last = after
        if count > 0:
            follows = {"$eq": [_id_at(count - 1), last]}
            start = {"$cond": [follows, count, newest]}
        else:  # nothing was read: everything is new
            start = {"$literal": 0}
    # One $project (an $addFields stage would copy the whole document: 5,000 messages).
    window = {
        "$let": {
            "vars": {"start": start},
            "in": _window("$$start", {"$subtract": [size, "$$start"]}),
        }
    }
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": oid}},
        {
            "$project": {
                **dict.fromkeys(TICKET_FIELDS, 1),
                **_derived(tail),
                **_description(),
                START: start,
                FOLLOWS: follows,
                "messages": window,
            }
        },
        _history(store),
    ]
    doc = _read(store, pipeline, ticket_id)
    history = doc.pop(HISTORY, None)
    # Entries of another shape are skipped (store/lenient.py).
    events = list(EVENTS.records(history)) if isinstance(history, list) else []
    return _opened(doc, events)


@db_errors
def earlier_messages(
    store: TicketStore,
    ticket_id: ObjectId | str,
    start: int,
    first: ObjectId | None,
    page: int = PAGE,
) -> OpenedTicket:
    """At most ``page`` messages before position ``start`` (``first``: the ``_id`` of the
    message read there), bodies cut; the description too, for the page that reaches the first
    message. ``follows`` is False when ``messages[start]`` is no longer ``first`` (a merge or a
    split moved the messages): the caller reads the conversation again."""
    oid = as_object_id(ticket_id)
    begin = max(start - page, 0)
    follows = {"$eq": [_id_at(start), first]}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": oid}},
        {
            "$project": {
                "user": 1,
                "createdAt": 1,
                "_messageCount": {"$size": _messages()},
                "_firstResponseAt": {"$literal": None},  # not derived from the page
                START: {"$literal": begin},
                FOLLOWS: follows,
                "messages": _window(begin, start - begin),
                **_description(),
            }
        },
    ]
    return _opened(_read(store, pipeline, ticket_id), [])


@db_errors
def full_bodies(
    store: TicketStore, ticket_id: ObjectId | str, message_ids: Sequence[ObjectId]
) -> dict[Any, str]:
    """The whole text of the messages ``message_ids`` (and ``"description"``: the ticket's),
    for a cut body the agent asked to read: only those cross the wire."""
    oid = as_object_id(ticket_id)
    chosen = {
        "$filter": {
            "input": _messages(),
            "as": "m",
            "cond": {"$in": ["$$m._id", list(message_ids)]},
        }
    }
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": oid}},
        {
            "$project": {
                "description": 1,
                "messages": {
                    "$map": {
                        "input": chosen,
                        "as": "m",
                        "in": {"_id": "$$m._id", "content": "$$m.content"},
                    }
                },
            }
        },
    ]
    doc = _read(store, pipeline, ticket_id)
    bodies: dict[Any, str] = {}
    for message in doc.get("messages") or []:
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            bodies[message.get("_id")] = message["content"]
    if isinstance(doc.get("description"), str):
        bodies[DESCRIPTION] = doc["description"]
    return bodies
