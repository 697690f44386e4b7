"""Ticket, Message and User as the Ticket Service's Mongoose schema defines them.

Reading is lenient: a document written by the service, by hand or by an older version may miss
fields, carry unknown enum values or wrong types. ``Ticket.from_mongo`` never raises; what it could
not read is listed in ``problems`` and the field falls back to a safe default. The ``_id`` is kept
whatever it is (``ForeignId`` when it is not an ObjectId): a stored ticket or person always has
one, and ``object_id`` is the one place that refuses to open or write by a foreign one.

Writing is strict: ``new_ticket_doc`` and ``new_message_doc`` build documents Mongoose would have
written (types, enums, ``__v``, timestamps, message ``_id``s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from helpdesk_tui.domain.errors import InvalidRequest


class Category(StrEnum):
    ORDER = "order"
    PRODUCT = "product"
    PAYMENT = "payment"
    SHIPPING = "shipping"
    ACCOUNT = "account"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for urgent .. 3 for low: the order a triaging agent reads them in."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def is_done(self) -> bool:
        return self in (Status.RESOLVED, Status.CLOSED)


ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)


def utc(value: datetime) -> datetime:
    """Aware UTC; pymongo hands back naive UTC datetimes unless the client is tz_aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def mongo_time(value: datetime) -> datetime:
    """A datetime as MongoDB stores it: UTC, millisecond precision."""
    value = utc(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _to_utc(value: Any) -> Any:
    return utc(value) if isinstance(value, datetime) else value


def _bson_date(value: Any) -> Any:
    """Only a BSON date is a date: Mongoose would not have stored a string or a number."""
    if value is not None and not isinstance(value, datetime):
        raise ValueError(f"expected a date, got {type(value).__name__}")
    return value


class _Lenient(BaseModel):
    """Base for models read from MongoDB: camelCase aliases, extra fields ignored."""

    model_config = ConfigDict(
        populate_by_name=True, extra="ignore", arbitrary_types_allowed=True, frozen=True
    )
    # Keys Mongoose requires; a document without one is flagged (and shown) rather than refused.
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    problems: tuple[str, ...] = Field(default=(), exclude=True)

    @classmethod
    def from_mongo(cls: type[_M], doc: Any) -> _M:
        """Parse a document without ever raising; what could not be read goes to ``problems``."""
        if not isinstance(doc, dict):
            problem = f"not a document: {type(doc).__name__}"
            return cls.model_validate({**cls._prepare({}, []), "problems": (problem,)})
        data = dict(doc)
        problems = [f"{key}: missing" for key in cls.REQUIRED if data.get(key) is None]
        data.update(cls._prepare(data, problems))
        for _ in range(len(data) + 1):
            try:
                return cls.model_validate({**data, "problems": tuple(problems)})
            except ValidationError as error:
                for detail in error.errors():
                    key = str(detail["loc"][0])
                    if key in data:
                        problems.append(f"{key}: {detail['msg'].lower()} (got {data[key]!r:.40})")
                        del data[key]
        kept = {key: data[key] for key in ("_id",) if key in data}  # as _prepare made it: valid
        return cls.model_validate({**kept, "problems": tuple(problems)})

    @classmethod
    def _prepare(cls, data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
        """Hook for fields that need more than per-field fallback."""
        return {}


_M = TypeVar("_M", bound=_Lenient)


@dataclass(frozen=True)
class ForeignId:
    """A stored ``_id`` that is not an ObjectId: the document was written by hand or by another
    tool (``_id: "hand-1"``), or came without one. Such a ticket is still a row (keyed and told
    apart by this), but nothing opens or writes it: ``Ticket.object_id`` refuses (and
    ``User.object_id`` for a person: nothing can refer to them).

    ``key`` is the value's type and ``repr``: equal for equal ``_id``s and hashable whatever
    the value is (a document ``_id`` is not), never equal to an ObjectId or its string.
    """

    key: str
    raw: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, raw: Any) -> ForeignId:
        return cls(f"{type(raw).__name__}:{raw!r}", raw)


TicketId = ObjectId | ForeignId
"""A stored ticket's ``_id`` as read: the ObjectId the service writes, or a foreign one."""


def _stored_id(data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """A stored document's ``_id``: an ObjectId as it is, anything else (or none) wrapped."""
    stored = data.get("_id")
    if isinstance(stored, ObjectId):
        return {}
    # Said as the field check says any other wrong type (and as it said this one).
    wrong = f"input should be an instance of objectid (got {stored!r:.40})"
    problems.append(f"_id: {wrong}" if "_id" in data else "_id: missing")
    return {"_id": ForeignId.of(stored)}


class User(_Lenient):
    """A person in ``users``: customer or staff. Read only for us."""

    REQUIRED = ("name", "email")

    # Every stored document has an ``_id``; ``_prepare`` wraps one that is not an ObjectId.
    id: ObjectId | ForeignId = Field(alias="_id")
    name: str = ""
    email: str = ""
    role: str = ""

    @classmethod
    def _prepare(cls, data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
        return _stored_id(data, problems)

    @property
    def display(self) -> str:
        return (
            self.name
            or self.email
            or (str(self.id) if isinstance(self.id, ObjectId) else "unknown")
        )

    @property
    def object_id(self) -> ObjectId:
        """The ObjectId tickets refer to this person by. The one place a person with a
        foreign ``_id`` is refused: nothing can be assigned to them, nor written as theirs."""
        if isinstance(self.id, ObjectId):
            return self.id
        raise InvalidRequest(
            f"{self.email or self.name or 'this user'} has no ObjectId _id in users "
            "(a hand-written document?); no ticket can refer to them"
        )


class Message(_Lenient):
    REQUIRED = ("content",)

    id: ObjectId | None = Field(default=None, alias="_id")
    sender: ObjectId | None = None
    content: str = ""
    attachments: tuple[str, ...] = ()
    is_internal: bool = Field(default=False, alias="isInternal")
    created_at: datetime | None = Field(default=None, alias="createdAt")

    _utc = field_validator("created_at", mode="after")(_to_utc)
    _date = field_validator("created_at", mode="before")(_bson_date)

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(str(item) for item in value)
        return value


class Ticket(_Lenient):
    """A ticket as read from ``tickets``. The queue reads it without ``messages``."""

    REQUIRED = ("ticketNumber", "subject", "user", "category", "createdAt")

    # Every stored document has an ``_id``; ``_prepare`` wraps one that is not an ObjectId.
    id: ObjectId | ForeignId = Field(alias="_id")
    ticket_number: str = Field(default="", alias="ticketNumber")
    subject: str = ""
    description: str = ""
    user: ObjectId | None = None
    order: ObjectId | None = None
    category: Category = Category.OTHER
    priority: Priority = Priority.MEDIUM
    status: Status = Status.OPEN
    assigned_to: ObjectId | None = Field(default=None, alias="assignedTo")
    messages: tuple[Message, ...] = ()
    tags: tuple[str, ...] = ()
    resolved_at: datetime | None = Field(default=None, alias="resolvedAt")
    closed_at: datetime | None = Field(default=None, alias="closedAt")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    version: int = Field(default=0, alias="__v")

    # Derived by the store's queue query, which never fetches `messages` (not schema fields).
    first_response_at: datetime | None = Field(default=None, alias="_firstResponseAt")
    message_count: int = Field(default=0, alias="_messageCount")
    last_message_at: datetime | None = Field(default=None, alias="_lastMessageAt")
    # The last *public* message is the customer's: it is the agents' turn (internal notes
    # answer nobody). A waiting ticket in that state has been woken by the customer.
    last_message_from_customer: bool = Field(default=False, alias="_lastFromCustomer")

    _date = field_validator("resolved_at", "closed_at", "created_at", "updated_at", mode="before")(
        _bson_date
    )
    _utc = field_validator(
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
        "first_response_at",
        "last_message_at",
        mode="after",
    )(_to_utc)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(str(item) for item in value)
        return value

    @classmethod
    def _prepare(cls, data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
        return {**cls._prepare_messages(data, problems), **_stored_id(data, problems)}

    @classmethod
    def _prepare_messages(cls, data: dict[str, Any], problems: list[str]) -> dict[str, Any]:
        raw = data.get("messages")
        if raw is None:
            return {}
        if not isinstance(raw, list):
            problems.append(f"messages: not a list (got {raw!r:.40})")
            return {"messages": ()}
        messages = []
        for index, item in enumerate(raw):
            message = Message.from_mongo(item)
            problems.extend(f"messages[{index}].{p}" for p in message.problems)
            messages.append(message)
        seen: dict[Any, int] = {}
        for index, message in enumerate(messages):
            if message.id is not None and message.id in seen:
                problems.append(f"messages[{index}]._id: same _id as messages[{seen[message.id]}]")
            elif message.id is not None:
                seen[message.id] = index
        prepared: dict[str, Any] = {"messages": tuple(messages)}
        if "_firstResponseAt" not in data:
            first = first_response(messages, data.get("user"))
            prepared["_firstResponseAt"] = first
            prepared["_messageCount"] = len(messages)
            if messages:
                prepared["_lastMessageAt"] = messages[-1].created_at
            public = [m for m in messages if not m.is_internal]
            # The customer's turn is over only when someone answers them: notes do not.
            prepared["_lastFromCustomer"] = bool(public) and public[-1].sender == data.get("user")
        return prepared

    @property
    def is_broken(self) -> bool:
        return bool(self.problems)

    @property
    def object_id(self) -> ObjectId:
        """The ObjectId to open, read again or write this ticket by. The one place a ticket
        with a foreign ``_id`` is refused, in the words every caller shows."""
        if isinstance(self.id, ObjectId):
            return self.id
        raise InvalidRequest(
            f"{self.label}: malformed document (its _id is not an ObjectId); "
            "it cannot be opened or changed here"
        )

    def problem_with(self, key: str) -> str | None:
        """What is wrong with the stored field ``key`` (its MongoDB name), if anything."""
        return next((p for p in self.problems if p.partition(":")[0] == key), None)

    @property
    def label(self) -> str:
        """How messages name this ticket: its number, or what identifies it without one."""
        if self.ticket_number:
            return self.ticket_number
        if isinstance(self.id, ObjectId):
            return f"ticket …{str(self.id)[-6:]} (no number)"
        return "a ticket with no number"

    @property
    def customer_turn(self) -> bool:
        """Not done, and the customer wrote the last public message: ours to answer."""
        return self.last_message_from_customer and not self.status.is_done

    @property
    def woken(self) -> bool:
        """Waiting on the customer, who has answered: the agents' turn again (↩)."""
        return self.status is Status.WAITING and self.last_message_from_customer

    @property
    def public_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if not m.is_internal)


def first_response(messages: list[Message] | tuple[Message, ...], customer: Any) -> datetime | None:
    """When the first public message from anyone but the customer was sent (SLA first response)."""
    for message in messages:
        if not message.is_internal and message.sender != customer and message.created_at:
            return message.created_at
    return None


# --- writing -------------------------------------------------------------------------------


class NewTicket(BaseModel):
    """What a caller supplies to open a ticket; validated strictly before anything is written."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, arbitrary_types_allowed=True
    )

    subject: str = Field(min_length=1, max_length=500)
    description: str = ""
    user: ObjectId
    category: Category
    priority: Priority = Priority.MEDIUM
    order: ObjectId | None = None
    assigned_to: ObjectId | None = None
    tags: list[str] = Field(default_factory=list)


def new_message_doc(
    *,
    sender: ObjectId,
    content: str,
    now: datetime,
    is_internal: bool = False,
    attachments: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """A ``messages[]`` element as Mongoose writes it: own ``_id``, all fields present."""
    return {
        "_id": ObjectId(),
        "sender": sender,
        "content": content,
        "attachments": [str(a) for a in attachments],
        "isInternal": bool(is_internal),
        "createdAt": mongo_time(now),
    }


def new_ticket_doc(
    ticket: NewTicket,
    *,
    ticket_number: str,
    now: datetime,
    status: Status = Status.OPEN,
) -> dict[str, Any]:
    """A ``tickets`` document as ``new Ticket({...}).save()`` writes it (``__v: 0``, timestamps)."""
    now = mongo_time(now)
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "ticketNumber": ticket_number,
        "subject": ticket.subject,
        "description": ticket.description,
        "user": ticket.user,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": status.value,
        "messages": [],
        "tags": list(dict.fromkeys(t.strip() for t in ticket.tags if t.strip())),
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    # Mongoose leaves unset optional paths out of the document rather than storing null.
    if ticket.order is not None:
        doc["order"] = ticket.order
    if ticket.assigned_to is not None:
        doc["assignedTo"] = ticket.assigned_to
    return doc
