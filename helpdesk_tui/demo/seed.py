"""A realistic, reproducible helpdesk: a team, customers and tickets in every SLA state.

Documents are built with the same domain builders the store writes with, so they are exactly
what the app (and Mongoose) would have written; they are bulk-inserted for speed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from helpdesk_tui.domain.models import (
    Category,
    NewTicket,
    Priority,
    Status,
    mongo_time,
    new_message_doc,
    new_ticket_doc,
)
from helpdesk_tui.domain.sla import SlaPolicy

if TYPE_CHECKING:
    from helpdesk_tui.store.tickets import TicketStore

AGENTS = [
    ("Ana Lima", "ana@helpdesk.example"),
    ("Bo Nilsson", "bo@helpdesk.example"),
    ("Chidi Okafor", "chidi@helpdesk.example"),
    ("Dana Weiss", "dana@helpdesk.example"),
    ("Emil Novak", "emil@helpdesk.example"),
    ("Farah Haddad", "farah@helpdesk.example"),
    ("Gus Moreau", "gus@helpdesk.example"),
    ("Hana Sato", "hana@helpdesk.example"),
]
SUPERVISOR = ("Sam Rivera", "sam@helpdesk.example")
DEMO_AGENT_EMAIL = AGENTS[0][1]

FIRST = [
    "Alex",
    "Blair",
    "Casey",
    "Devon",
    "Eden",
    "Frankie",
    "Gray",
    "Harper",
    "Indigo",
    "Jordan",
    "Kai",
    "Logan",
    "Morgan",
    "Noa",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Taylor",
    "Uma",
    "Val",
    "Wren",
    "Yael",
    "Zion",
]
LAST = [
    "Abbott",
    "Becker",
    "Castro",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreno",
    "Nakamura",
    "Olsen",
    "Patel",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Wagner",
    "Young",
]

SUBJECTS: dict[Category, list[str]] = {
    Category.ORDER: [
        "Order stuck in processing",
        "Wrong item in my order",
        "Cancel order please",
        "Order confirmation never came",
        "Change delivery address on order",
    ],
    Category.PRODUCT: [
        "Blender makes a grinding noise",
        "Screen flickers after update",
        "Missing screws in the box",
        "Battery drains overnight",
        "Size chart is wrong",
    ],
    Category.PAYMENT: [
        "Charged twice for one order",
        "Refund not received",
        "Card declined but money taken",
        "Invoice shows wrong VAT",
        "Gift card balance missing",
    ],
    Category.SHIPPING: [
        "Parcel never arrived",
        "Tracking not updating for 6 days",
        "Package arrived damaged",
        "Courier left parcel outside",
        "Express shipping took a week",
    ],
    Category.ACCOUNT: [
        "Cannot reset my password",
        "Please delete my account",
        "2FA codes not arriving",
        "Email change not confirmed",
        "Locked out after too many attempts",
    ],
    Category.OTHER: [
        "Question about your warranty",
        "Partnership enquiry",
        "Accessibility of the checkout",
        "Feedback on the new app",
        "Do you ship to Iceland?",
    ],
}
CUSTOMER_LINES = [
    "Hi, I have been waiting for an answer and nothing has happened yet.",
    "Could you please look into this? It is quite urgent for me.",
    "I attached a photo. Let me know if you need anything else.",
    "Any update on this? It has been a while.",
    "Thanks, that worked! One more question though.",
    "This is the third time I am writing about this.",
]
AGENT_LINES = [
    "Thanks for reaching out! I am looking into this now.",
    "I have escalated this to our logistics partner and will update you shortly.",
    "Could you send me your order number and a photo of the label?",
    "I have issued a refund; it should show up within 3-5 business days.",
    "Sorry for the trouble. A replacement is on its way.",
]
NOTES = [
    "Customer is a repeat buyer; be generous.",
    "Checked with warehouse: item was never scanned out.",
    "Possible fraud pattern, see similar ticket last week.",
    "Waiting on finance to approve the refund.",
]
TAGS = ["vip", "refund", "damaged", "escalated", "bug", "duplicate", "courier", "gdpr", "billing"]
# Customer text is untrusted: the demo carries the kinds of text that must render literally.
HOSTILE = [
    (
        "[bold red]URGENT[/] read me [link=https://evil.example]now[/link]",
        "Please click [link=https://evil.example]here[/link] \x1b[31mred\x1b[0m "
        "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 and \x1b[2J clear.",
    ),
    ("Refund for order #[12345] (no markup)", "My cart showed [b]2 items[/b] but I paid for 3."),
]


@dataclass(frozen=True)
class DemoData:
    users: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    agent_ids: list[ObjectId]
    supervisor_id: ObjectId
    customer_ids: list[ObjectId]
    # The audit trail of the tickets' history (created, assignments, replies, status changes),
    # consistent with each ticket's own times, messages and status.
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _people(rng: random.Random, customers: int) -> tuple[list[dict[str, Any]], list[ObjectId]]:
    users: list[dict[str, Any]] = [
        {"_id": ObjectId(), "name": n, "email": e, "role": "agent"} for n, e in AGENTS
    ]
    users.append(
        {"_id": ObjectId(), "name": SUPERVISOR[0], "email": SUPERVISOR[1], "role": "supervisor"}
    )
    customer_ids: list[ObjectId] = []
    for i in range(customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user: dict[str, Any] = {
            "_id": ObjectId(),
            "name": f"{first} {last}",
            "email": f"{first}.{last}{i}@mail.example".lower(),
            "role": "customer",
        }
        users.append(user)
        customer_ids.append(user["_id"])
    return users, customer_ids


def _choice(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate(
    now: datetime,
    *,
    tickets: int = 300,
    customers: int = 200,
    seed: int = 7,
    policy: SlaPolicy | None = None,
) -> DemoData:
    """Deterministic for a given (now, sizes, seed)."""
    rng = random.Random(seed)
    # The history's own generator: the tickets' choices (and so the data) stay as they were.
    rhythm = random.Random(seed * 7919 + 1)
    policy = policy or SlaPolicy()
    users, customer_ids = _people(rng, customers)
    agent_ids = [u["_id"] for u in users if u["role"] == "agent"]
    supervisor_id = next(u["_id"] for u in users if u["role"] == "supervisor")
    docs = [
        _ticket(
            rng, n + 1, now, policy, agent_ids, customer_ids, hostile=n in (4, 11), rhythm=rhythm
        )
        for n in range(tickets)
    ]
    if tickets >= 20:
        docs[17] = _malformed(docs[17])
    people = _stable_ids(seed, users, docs)
    agents = [people[i] for i in agent_ids]
    return DemoData(
        users,
        docs,
        agents,
        people[supervisor_id],
        [people[i] for i in customer_ids],
        _history(rhythm, seed, docs, agents),
    )


# 2024-01-01T00:00:00Z: the time part of every demo id, so no id depends on when the demo ran.
DEMO_ID_EPOCH = 1_704_067_200


def stable_id(seed: int, *parts: object) -> ObjectId:
    """The same ObjectId for the same (seed, what it names), in every run of the demo.

    Drafts and anything else kept on disk between runs refer to these ids (the agent's own
    id names the draft files), so a restarted demo must hand out the same ones.
    """
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return ObjectId(DEMO_ID_EPOCH.to_bytes(4, "big") + digest[:8])


def _stable_ids(
    seed: int, users: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> dict[ObjectId, ObjectId]:
    """Replace every generated id by one named by what stays: e-mail, number, position.

    Done after generation, so the random choices (and so the data) are exactly as before.
    """
    people: dict[ObjectId, ObjectId] = {}
    for user in users:
        new = stable_id(seed, "user", user["email"])
        people[user["_id"]] = new
        user["_id"] = new
    for doc in docs:
        number = doc.get("ticketNumber")
        doc["_id"] = stable_id(seed, "ticket", number)
        for field in ("user", "assignedTo"):
            if doc.get(field) in people:
                doc[field] = people[doc[field]]
        messages = doc.get("messages")
        if isinstance(messages, list):
            for index, message in enumerate(messages):
                if isinstance(message, dict):
                    message["_id"] = stable_id(seed, "message", number, index)
                    if message.get("sender") in people:
                        message["sender"] = people[message["sender"]]
    return people


def _ticket(
    rng: random.Random,
    number: int,
    now: datetime,
    policy: SlaPolicy,
    agents: list[ObjectId],
    customers: list[ObjectId],
    *,
    hostile: bool,
    rhythm: random.Random,
) -> dict[str, Any]:
    status = _choice(
        rng,
        {
            Status.OPEN: 26,
            Status.IN_PROGRESS: 24,
            Status.WAITING: 12,
            Status.RESOLVED: 20,
            Status.CLOSED: 18,
        },
    )
    priority = _choice(
        rng, {Priority.URGENT: 10, Priority.HIGH: 25, Priority.MEDIUM: 40, Priority.LOW: 25}
    )
    category = rng.choice(list(Category))
    customer = rng.choice(customers)
    target = policy.target(priority)
    answered = status is not Status.OPEN or rng.random() < 0.3
    minutes = target.resolution_minutes if answered else target.first_response_minutes
    # Spread active tickets over on track, at risk and breached; done ones over the past week.
    if status.is_done:
        age = timedelta(minutes=rng.uniform(0.3, 2.5) * minutes)
    else:
        share = _choice(rng, {0.35: 45, 0.85: 25, 1.4: 30})
        age = timedelta(minutes=minutes * rng.uniform(share - 0.3, share + 0.1))
    created = now - age
    if status.is_done:
        # Done tickets are the history: they came in over the last week, on the team's rhythm.
        created = _arrival(rhythm, now, earliest=now - HISTORY, latest=now - age)
    subject, description = rng.choice(SUBJECTS[category]), rng.choice(CUSTOMER_LINES)
    if hostile:
        subject, description = HOSTILE[number % 2]
    assignee = None
    if status is not Status.OPEN or rng.random() < 0.45:
        assignee = rng.choice(agents)
    new = NewTicket(
        subject=subject,
        description=description,
        user=customer,
        category=category,
        priority=priority,
        assigned_to=assignee,
        tags=rng.sample(TAGS, k=_choice(rng, {0: 50, 1: 35, 2: 15})),
    )
    doc = new_ticket_doc(new, ticket_number=f"TKT-{number:06d}", now=created, status=status)
    doc["messages"] = list(_conversation(rng, doc, now, age, answered, assignee or agents[0]))
    last = doc["messages"][-1]["createdAt"] if doc["messages"] else doc["createdAt"]
    if status.is_done:
        resolved = last + timedelta(minutes=rng.randint(5, 90))
        doc["resolvedAt"] = mongo_time(min(resolved, now - timedelta(minutes=1), max(last, now)))
        last = doc["resolvedAt"]
        if status is Status.CLOSED:
            doc["closedAt"] = mongo_time(
                max(last, min(now, last + timedelta(hours=rng.randint(1, 30))))
            )
            last = doc["closedAt"]
    doc["updatedAt"] = mongo_time(min(last, now))
    doc["__v"] = len(doc["messages"]) + (1 if doc["tags"] else 0)
    return doc


def _conversation(
    rng: random.Random,
    doc: dict[str, Any],
    now: datetime,
    age: timedelta,
    answered: bool,
    agent: ObjectId,
) -> Iterator[dict[str, Any]]:
    """The customer's opening message, then agent/customer turns and the odd internal note,
    all inside the first 80% of the ticket's age (so nothing lies in the future)."""
    created: datetime = doc["createdAt"]
    customer: ObjectId = doc["user"]
    yield new_message_doc(sender=customer, content=doc["description"], now=created)
    if not answered:
        return
    turns = rng.randint(1, 5)
    step = age / (turns + 2)
    offset = timedelta(0)
    script: list[tuple[timedelta, ObjectId, str, bool, list[str]]] = []
    for turn in range(turns):
        offset += step * rng.uniform(0.5, 1.0)
        script.append((offset, agent, rng.choice(AGENT_LINES), False, []))
        if rng.random() < 0.3:
            offset += timedelta(minutes=rng.randint(1, 30))
            script.append((offset, agent, rng.choice(NOTES), True, []))
        if turn < turns - 1 or doc["status"] == Status.OPEN.value:
            offset += step * rng.uniform(0.3, 0.9)
            attachments = ["photo.jpg"] if rng.random() < 0.15 else []
            script.append((offset, customer, rng.choice(CUSTOMER_LINES), False, attachments))
    budget = age * 0.8
    scale = min(1.0, budget / offset) if offset else 1.0
    for at, sender, content, internal, attachments in script:
        yield new_message_doc(
            sender=sender,
            content=content,
            now=created + at * scale,
            is_internal=internal,
            attachments=attachments,
        )


HISTORY = timedelta(days=8)
OPEN, IN_PROGRESS, WAITING = Status.OPEN.value, Status.IN_PROGRESS.value, Status.WAITING.value
RESOLVED, CLOSED = Status.RESOLVED.value, Status.CLOSED.value
STATUSES = frozenset(s.value for s in Status)
TICK = timedelta(seconds=1)


def _busy(at: datetime) -> float:
    """How busy the helpdesk is at a moment (1: a weekday's working hours), UTC."""
    hour = at.hour
    level = 1.0 if 8 <= hour < 18 else 0.5 if hour in (7, 18, 19, 20) else 0.12
    return level * (0.35 if at.weekday() >= 5 else 1.0)


def _arrival(
    rng: random.Random, now: datetime, *, earliest: datetime, latest: datetime
) -> datetime:
    """A moment in [earliest, latest], busy hours and weekdays likelier (rejection sampling)."""
    if latest <= earliest:
        return mongo_time(latest)
    span = (latest - earliest).total_seconds()
    at = latest
    for _ in range(40):
        at = earliest + timedelta(seconds=rng.uniform(0, span))
        if rng.random() < _busy(at):
            break
    return mongo_time(at)


def _history(
    rng: random.Random, seed: int, docs: list[dict[str, Any]], agents: list[ObjectId]
) -> list[dict[str, Any]]:
    """The audit trail each ticket would have left, from its own times, messages and status:
    created, the first reply, and the status changes that lead to its status (open →
    in_progress at the first reply, the odd wait on the customer, resolved, closed). Only
    these: each entry costs the demo's start about half a millisecond to insert."""
    events: list[dict[str, Any]] = []
    # Event ids: the demo's epoch, the seed's 4 bytes, a counter (cheap, and the same each run).
    prefix = (
        DEMO_ID_EPOCH.to_bytes(4, "big") + hashlib.sha256(f"{seed}:events".encode()).digest()[:4]
    )
    for doc in docs:
        ticket, created = doc["_id"], doc.get("createdAt")
        if not isinstance(created, datetime):
            continue
        number = doc.get("ticketNumber")
        trail: list[tuple[datetime, ObjectId | None, str, str | None, str | None]] = [
            (created, None, "created", None, number)
        ]
        customer = doc.get("user")
        messages = [m for m in doc.get("messages") or [] if isinstance(m, dict)]
        replies = [m for m in messages if m.get("sender") != customer and not m.get("isInternal")]
        if replies:
            first = replies[0]
            trail.append(
                (first["createdAt"], first.get("sender"), "reply", None, str(first["_id"]))
            )
        trail += _status_path(rng, doc, messages, replies, agents)
        trail.sort(key=lambda e: e[0])  # stable: a status change follows its reply
        for at, actor, action, before, after in trail:
            events.append(
                {
                    "_id": ObjectId(prefix + len(events).to_bytes(4, "big")),
                    "ticket": ticket,
                    "actor": actor,
                    "action": action,
                    "from": before,
                    "to": after,
                    "at": at,
                }
            )
    return events


def _status_path(
    rng: random.Random,
    doc: dict[str, Any],
    messages: list[dict[str, Any]],
    replies: list[dict[str, Any]],
    agents: list[ObjectId],
) -> list[tuple[datetime, ObjectId | None, str, str | None, str | None]]:
    status = doc.get("status")
    if not replies or status not in STATUSES:
        return []
    actor = doc.get("assignedTo") or agents[0]
    tick = TICK
    path: list[tuple[datetime, ObjectId | None, str, str | None, str | None]] = []
    current = OPEN

    def move(at: datetime, to: str) -> None:
        nonlocal current
        path.append((at, actor, "status", current, to))
        current = to

    move(replies[0]["createdAt"], IN_PROGRESS)
    customer = doc.get("user")
    # Now and then the agent waits on the customer, who answers: waiting → open → in progress.
    for reply, following in itertools.pairwise(replies):
        answers = [
            m
            for m in messages
            if m.get("sender") == customer and reply["createdAt"] < m["createdAt"]
        ]
        if answers and answers[0]["createdAt"] < following["createdAt"] and rng.random() < 0.25:
            move(reply["createdAt"] + tick, WAITING)
            move(answers[0]["createdAt"], OPEN)
            move(following["createdAt"], IN_PROGRESS)
    last = replies[-1]["createdAt"] + tick
    if status == OPEN:  # answered, waited on, and the customer wrote back
        answers = [m for m in messages if m.get("sender") == customer and m["createdAt"] > last]
        if answers:
            move(last, WAITING)
            move(answers[0]["createdAt"], OPEN)
        else:
            path = []  # an agent's reply alone does not move the status
    elif status == WAITING:
        move(last, WAITING)
    elif status in (RESOLVED, CLOSED):
        resolved = doc.get("resolvedAt")
        if isinstance(resolved, datetime):
            move(max(resolved, last), RESOLVED)
            closed = doc.get("closedAt")
            if status == CLOSED and isinstance(closed, datetime):
                move(max(closed, resolved, last), CLOSED)
    return path


def _malformed(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as a careless script might have left it: the app must show, not crash."""
    broken = dict(doc)
    broken.pop("category", None)
    broken["priority"] = "critical"
    broken["tags"] = "not-a-list"
    broken["legacyField"] = {"imported": True}
    return broken


def load(store: TicketStore, data: DemoData, *, history: bool = True) -> None:
    """Insert the generated people and tickets and move the shared counter past them;
    ``history``: their audit trail too (tests of what the app writes start without it)."""
    from helpdesk_tui.demo.importer import import_demo

    import_demo(store, data.users, data.tickets)
    if history and data.events:
        store.events.insert_many(data.events, ordered=False)
