"""Helpers the tests share (one place, typed): the quiet config, the ``make_app`` fixture's type,
documents as the Ticket Service's Mongoose model sees them, a thread-safe live-feed recorder,
hostile tickets and the toasts that show them, and doctor's checks by name.

Driving the app through the pilot (settle, until, open_ticket, burst, ...) is in tests/pilot.py;
the scripted wire server is tests/fake_mongo.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bson import ObjectId
from pydantic import SecretStr
from textual.widgets._toast import Toast

from helpdesk_tui.config import Config, UiConfig
from helpdesk_tui.doctor import Check, run_checks
from helpdesk_tui.domain.models import ACTIVE_STATUSES, Ticket, utc
from helpdesk_tui.store.live import Batch, Change
from helpdesk_tui.store.tickets import TicketStore

if TYPE_CHECKING:
    from conftest import People

    from helpdesk_tui.app import HelpdeskApp
    from helpdesk_tui.store.early import EarlyStart

# The live feed polls once an hour: nothing arrives unless a test sends it.
QUIET = Config(ui=UiConfig(poll_interval_seconds=3600))
WIDE = (120, 40)
NARROW = (80, 24)
AGENT = "ann@helpdesk.test"  # the ``people`` fixture's agent
SUPERVISOR = "sam@helpdesk.test"  # and its supervisor
WAIT_SECONDS = 5.0  # how long a thread-side wait waits before it fails the test


class MakeApp(Protocol):
    """The ``make_app`` fixture: a HelpdeskApp on ``store`` as the staff member ``email``."""

    def __call__(
        self,
        store: TicketStore,
        email: str = ...,
        *,
        read_only: bool = False,
        config: Config | None = None,
        undo_seconds: float | None = 0.0,
        early: EarlyStart | None = None,
    ) -> HelpdeskApp: ...


# --- the Mongoose schema of the Ticket Service (seed/ticket-service-architecture.md) ----------

CATEGORIES = {"order", "product", "payment", "shipping", "account", "other"}
PRIORITIES = {"low", "medium", "high", "urgent"}
STATUSES = {"open", "in_progress", "waiting", "resolved", "closed"}
SCHEMA_KEYS = {
    "ticketNumber",
    "subject",
    "description",
    "user",
    "order",
    "category",
    "priority",
    "status",
    "assignedTo",
    "messages",
    "tags",
    "resolvedAt",
    "closedAt",
}
MONGOOSE_KEYS = {"_id", "__v", "createdAt", "updatedAt"}
MESSAGE_KEYS = {"_id", "sender", "content", "attachments", "isInternal", "createdAt"}


def mongoose_problems(doc: Any) -> list[str]:
    """Every way ``doc`` differs from what the seed's Mongoose model writes and reads."""
    if not isinstance(doc, dict):
        return [f"not a document: {type(doc).__name__}"]
    problems: list[str] = []

    def check(key: str, ok: bool, what: str) -> None:
        if not ok:
            problems.append(f"{key}: expected {what}, got {doc.get(key)!r:.60}")

    unknown = set(doc) - SCHEMA_KEYS - MONGOOSE_KEYS
    if unknown:
        problems.append(f"unknown top-level keys: {sorted(unknown)}")
    check("_id", isinstance(doc.get("_id"), ObjectId), "ObjectId")
    number, subject = doc.get("ticketNumber"), doc.get("subject")
    check("ticketNumber", isinstance(number, str) and number != "", "non-empty str (required)")
    check("subject", isinstance(subject, str) and subject != "", "non-empty str (required)")
    if "description" in doc:
        check("description", isinstance(doc["description"], str), "str")
    check("user", isinstance(doc.get("user"), ObjectId), "ObjectId (required)")
    for ref in ("order", "assignedTo"):
        if ref in doc:
            check(ref, isinstance(doc[ref], ObjectId), "ObjectId if present")
    check("category", doc.get("category") in CATEGORIES, f"one of {sorted(CATEGORIES)}")
    check("priority", doc.get("priority") in PRIORITIES, f"one of {sorted(PRIORITIES)}")
    check("status", doc.get("status") in STATUSES, f"one of {sorted(STATUSES)}")
    tags = doc.get("tags")
    check("tags", isinstance(tags, list) and all(isinstance(t, str) for t in tags), "list[str]")
    for key in ("resolvedAt", "closedAt"):
        if key in doc:
            check(key, isinstance(doc[key], datetime), "datetime if present")
    created, updated = doc.get("createdAt"), doc.get("updatedAt")
    check("createdAt", isinstance(created, datetime), "datetime")
    check("updatedAt", isinstance(updated, datetime), "datetime")
    if isinstance(created, datetime) and isinstance(updated, datetime):
        check("updatedAt", utc(updated) >= utc(created), "updatedAt >= createdAt")
    version = doc.get("__v")
    check(
        "__v",
        isinstance(version, int) and not isinstance(version, bool) and version >= 0,
        "int >= 0",
    )
    messages = doc.get("messages")
    if not isinstance(messages, list):
        problems.append(f"messages: expected a list, got {messages!r:.60}")
        messages = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            problems.append(f"{where}: not a subdocument")
            continue
        if set(message) != MESSAGE_KEYS:
            problems.append(f"{where}: keys {sorted(message)} != {sorted(MESSAGE_KEYS)}")
        attachments = message.get("attachments")
        for key, ok in (
            ("_id", isinstance(message.get("_id"), ObjectId)),
            ("sender", isinstance(message.get("sender"), ObjectId)),
            ("content", isinstance(message.get("content"), str)),
            (
                "attachments",
                isinstance(attachments, list) and all(isinstance(a, str) for a in attachments),
            ),
            ("isInternal", isinstance(message.get("isInternal"), bool)),
            ("createdAt", isinstance(message.get("createdAt"), datetime)),
        ):
            if not ok:
                problems.append(f"{where}.{key}: wrong type {message.get(key)!r:.40}")
    return problems


def assert_mongoose_valid(doc: Any) -> None:
    """``doc`` is a ticket the Ticket Service's Mongoose model could have written and can read."""
    problems = mongoose_problems(doc)
    assert not problems, "not a Mongoose-valid ticket:\n  " + "\n  ".join(problems)


def raw(store: TicketStore, ticket_id: ObjectId | None) -> dict[str, Any]:
    doc = store.db.tickets.find_one({"_id": ticket_id})
    assert doc is not None
    return doc


# --- the live feed ----------------------------------------------------------------------------


class Recorder:
    """A thread-safe ``emit``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: list[Batch] = []

    def __call__(self, batch: Batch) -> None:
        with self._lock:
            self._batches.append(batch)

    @property
    def batches(self) -> list[Batch]:
        with self._lock:
            return list(self._batches)

    @property
    def changes(self) -> list[Change]:
        return [c for b in self.batches for c in b.changes]

    def wait_for(self, predicate: Callable[[list[Change]], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not predicate(self.changes):
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.changes}"
            time.sleep(0.002)


# --- hostile tickets and what the toasts show -----------------------------------------------


def make_ticket(store: TicketStore, people: People, db: Any, **fields: Any) -> ObjectId:
    """A ticket written as another program would have, then given hostile ``fields``."""
    from conftest import as_service, new_ticket

    ticket = store.create_ticket(new_ticket(people), actor=people.customer)
    assert ticket.id is not None
    if fields:
        db.tickets.update_one({"_id": ticket.id}, {"$set": fields})
        as_service(store, ticket.id)  # the queue index learns of the write, as the app would
    return ticket.id


def toasts(app: Any) -> list[str]:
    """What each toast shows, rendered as the Toast widget renders it (markup and all)."""
    # The title is plain text in Toast.render; the message is what markup could break.
    return [
        Toast(replace(notification, title="")).render().plain for notification in app._notifications
    ]


# --- the customer's other tickets -----------------------------------------------------------


def others_of(store: TicketStore, number: str) -> list[Ticket]:
    """The customer's other tickets as an agent expects them: open first, then newest first."""
    ticket = store.find_ticket(number)
    docs = store.tickets.find({"user": ticket.user, "_id": {"$ne": ticket.id}}, {"messages": 0})
    others = sorted((Ticket.from_mongo(d) for d in docs), key=lambda t: t.created_at, reverse=True)
    return [t for t in others if t.status in ACTIVE_STATUSES] + [
        t for t in others if t.status not in ACTIVE_STATUSES
    ]


# --- doctor ----------------------------------------------------------------------------------

DOCTOR_URI = "mongodb://helpdesk:s3cret-pw@127.0.0.1:1/?replicaSet=secantus"


def doctor_config() -> Config:
    """A config whose URI holds a password (doctor must never show it)."""
    cfg = Config()
    mongo = cfg.mongo.model_copy(update={"uri": SecretStr(DOCTOR_URI)})
    return cfg.model_copy(update={"mongo": mongo})


def doctor_checks(store: TicketStore) -> dict[str, Check]:
    """doctor's checks on ``store``'s server, by name."""
    return {check.name: check for check in run_checks(store, doctor_config())}
