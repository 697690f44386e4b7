"""The demo's macros (used when the config defines none), so `m` has something to show."""

from __future__ import annotations

from helpdesk_tui.domain.macros import Macro
from helpdesk_tui.domain.models import Priority, Status

DEMO_MACROS: tuple[Macro, ...] = (
    Macro(
        name="Outage: acknowledge",
        reply="Hi {customer_name},\n\nWe know about the current outage and are working on it; "
        "we will update {ticket_number} as soon as it is fixed.\n\nBest,\n{agent_name}",
        status=Status.IN_PROGRESS,
        tags=["+outage"],
        assignee="me",
    ),
    Macro(
        name="Ask for the order number",
        reply='Hi {customer_name},\n\nTo help with "{subject}", could you send us your order '
        "number?\n\nBest,\n{agent_name}",
        status=Status.WAITING,
    ),
    Macro(
        name="Escalate to urgent",
        note="Escalated by {agent_name}: needs attention today.",
        priority=Priority.URGENT,
        tags=["+escalated"],
    ),
    Macro(name="Take it", status=Status.IN_PROGRESS, assignee="me"),
    Macro(name="Back to the pool", assignee="nobody", tags=["-escalated"]),
)
