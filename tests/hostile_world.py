"""A helpdesk whose data attacks the terminal: every field of tickets, users and presence holds
escape sequences, C1 controls, bidi overrides or Rich markup (issue 12).

``build(db, now)`` writes it into a database of the tests' server; the tests then run the real
``helpdesk-tui`` (app and CLI) on that database in a pseudo-terminal, as a user would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

ATTACKS = {
    "osc52": "\x1b]52;c;UFdORUQ=\x07",
    "osc0": "\x1b]0;PWNED0\x1b\\",
    "osc2": "\x1b]2;PWNED2\x07",
    "osc8": "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "dcs": "\x1bP+q544e\x1b\\",
    "csi": "Zz\x1b[2J\x1b[3J",
    "c1csi": "\x9b2J",
    "c1osc": "\x9d0;PWNEDC1\x9c",
    "rlo": "\u202eexe.fdp",
    "zw": "a\u200bb\ufeffc\u2066d",
    "close": "[/]",
    "click": "[@click=app.quit]Q[/]",
    "bold": "[bold]B",
}
ALL = "".join(ATTACKS.values())
# What must never reach the terminal raw (markup is checked as visible text instead).
FORBIDDEN = [
    b"\x1b]52;",
    b"PWNED0\x1b",
    b"\x1b]0;PWNED",
    b"\x1b]2;PWNED",
    b"\x1b]8;;https://evil",
    b"\x1bP+q",
    b"Zz\x1b[2J",
    b"\x1b[3J",
    "\x9b".encode(),
    "\x9d".encode(),
    "\x9c".encode(),
    "\u202e".encode(),
    "\u200b".encode(),
    "\ufeff".encode(),
    "\u2066".encode(),
]
SUPERVISOR_EMAIL = "sam@helpdesk.test"


def build(db: Any, now: datetime) -> None:
    """Users, tickets and presence entries with an attack in every field shown anywhere, in a
    database set up as ``helpdesk-tui init-db`` leaves it (run last: it builds the queue index)."""
    sam, agents, customers = ObjectId(), {}, {}
    db.users.insert_one(
        {"_id": sam, "name": f"Sam{ALL}", "email": SUPERVISOR_EMAIL, "role": "supervisor"}
    )
    for name, attack in ATTACKS.items():
        agents[name], customers[name] = ObjectId(), ObjectId()
        db.users.insert_many(
            [
                {
                    "_id": agents[name],
                    "name": f"{attack}Agent {name}",
                    "email": f"{attack}{name}@staff.test",
                    "role": "agent",
                },
                {
                    "_id": customers[name],
                    "name": f"{attack}Eve {name}",
                    "email": f"{attack}eve-{name}@mail.test",
                    "role": "customer",
                },
            ]
        )
    # Malformed people: an agent whose _id is a string (hand-written), for `--as`.
    db.users.insert_one(
        {"_id": "agent-by-hand", "name": "Hand Made", "email": "hand@staff.test", "role": "agent"}
    )
    everyone = ObjectId()
    db.users.insert_one(
        {"_id": everyone, "name": f"Eve{ALL}", "email": f"eve{ALL}@mail.test", "role": "customer"}
    )
    tickets = [("ALL", ALL, everyone, None, 1)]  # the most urgent: first in every view
    tickets += [(n, a, customers[n], agents[n], 0) for n, a in ATTACKS.items()]
    for index, (name, attack, customer, agent, urgent) in enumerate(tickets):
        created = now - timedelta(hours=30 if urgent else 2 + index)
        ticket_id = ObjectId()
        messages = [
            {
                "_id": ObjectId(),
                "sender": customer,
                "content": f"Customer says {attack} end",
                "attachments": [f"{attack}.pdf"],
                "isInternal": False,
                "createdAt": created,
            },
            {
                "_id": ObjectId(),
                "sender": agent or sam,
                "content": f"Note {attack}",
                "attachments": [],
                "isInternal": True,
                "createdAt": created + timedelta(minutes=5),
            },
            {
                "_id": ObjectId(),
                "sender": customer,
                "content": f"Still waiting {attack}",
                "attachments": [],
                "isInternal": False,
                "createdAt": created + timedelta(minutes=9),
            },
        ]
        db.tickets.insert_one(
            {
                "_id": ticket_id,
                "ticketNumber": f"T-{index}{attack}",
                "subject": f"Subject {attack} end",
                "description": f"Description {attack}",
                "user": customer,
                "category": "shipping",
                "priority": "urgent" if urgent else "high",
                "status": "open",
                "assignedTo": agent,
                "messages": messages,
                "tags": [f"{attack}tag", name],
                "createdAt": created,
                "updatedAt": created + timedelta(minutes=9),
                "__v": 0,
            }
        )
        db.presence.insert_one(
            {
                "_id": f"{agents['osc2']}:{ticket_id}",
                "ticket": ticket_id,
                "agent": agents["osc2"] if name != "osc2" else agents["osc52"],
                "name": f"Presence{attack}",
                "mode": "viewing",
                "at": now + timedelta(days=3650),  # never stale, never expired by the TTL
            }
        )
    from helpdesk_tui.store.tickets import StoreSettings, TicketStore

    TicketStore(db, StoreSettings()).init_db()
