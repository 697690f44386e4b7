"""Beside a ticket: the customer's other tickets (digits open them), count, last contact, orders.

Every string from the database (subjects, numbers, order fields) is shown as plain text through
``one_line``; nothing is ever markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import Static

from helpdesk_tui.domain.context import CustomerContext
from helpdesk_tui.domain.models import ACTIVE_STATUSES
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.widgets.ticket_table import ago


def _since(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "unknown"
    age = ago(now - at)
    return "just now" if age == "now" else f"{age} ago"


def _order(order: Mapping[str, Any]) -> str:
    number = order.get("orderNumber") or f"…{str(order.get('_id'))[-8:]}"
    parts = [one_line(str(number), 16)]
    if order.get("status"):
        parts.append(one_line(str(order["status"]), 12))
    total = order.get("total", order.get("totalAmount"))
    if isinstance(total, int | float) and not isinstance(total, bool):
        parts.append(f"{total:,.2f}")
    return " ".join(parts)


def summary_line(context: CustomerContext, now: datetime, *, sep: str = " · ") -> str:
    """How many tickets, how many others open, when they last wrote."""
    more = "" if context.scanned_all else "+"
    return (
        f"{context.total} ticket{'' if context.total == 1 else 's'}{sep}"
        f"{context.open_count}{more} other open · last contact {_since(context.last_contact, now)}"
    )


DIGITS = tuple(str(n) for n in range(1, 10))


def _keys(keys: Sequence[str]) -> str:
    """The hint for the keys that open the listed tickets: "1-3 open one" while they are the
    digits, else each key ``[keys]`` bound ("f1 f2 f3 open one"); "" when none is bound."""
    if len(keys) == 1:
        return f"{keys[0]} opens it"
    if not keys:
        return ""
    label = f"1-{len(keys)}" if tuple(keys) == DIGITS[: len(keys)] else " ".join(keys)
    return f"{label} open one"


def render_context(
    context: CustomerContext | None,
    now: datetime,
    *,
    expanded: bool,
    width: int,
    more_key: str = "c",
    open_keys: Sequence[str] = DIGITS,
) -> Text:
    """The panel's text: a summary line, then (expanded) orders and numbered tickets.

    ``open_keys``: the key that opens each listed ticket, in order, as bound now ("" for one
    that has none): each ticket is marked with its key, and the last line names them."""
    if context is None:
        return Text("Customer: loading…", style="dim")
    text = Text()
    text.append("Customer: ", style="bold")
    if not expanded:
        text.append(summary_line(context, now))
        text.append(f" · {more_key} more" if context.others else "", style="dim")
        text.no_wrap, text.overflow = True, "ellipsis"  # one row, whatever the width
        return text
    wide = width >= 60  # under the header: one line a ticket; beside the conversation: two
    text.append(summary_line(context, now, sep=" · " if wide else "\n"))
    if context.orders:
        text.append("\nOrders: ", style="bold")
        text.append(", ".join(_order(o) for o in context.orders))
    if not context.others:
        text.append("\nNo other tickets.", style="dim")
    room = max(width - 4, 10)
    for index, ticket in enumerate(context.others, 1):
        style = "bold" if ticket.status in ACTIVE_STATUSES else "dim"
        when = _since(ticket.updated_at or ticket.created_at, now)
        head = f" {one_line(ticket.ticket_number or '?', 12)} {ticket.status.label} · {when}"
        subject = one_line(ticket.subject or "(no subject)", room - (len(head) + 4 if wide else 0))
        key = open_keys[index - 1] if index <= len(open_keys) else ""
        text.append("\n")
        text.append(key or " ", style="bold reverse" if key else "")
        text.append(head, style=style)
        text.append(f"  {subject}" if wide else f"\n   {subject}", style=style)
    if context.others:
        keys = [key for key in open_keys[: len(context.others)] if key]
        text.append(f"\n{_keys(keys) + ' · ' if keys else ''}{more_key} hide", style="dim")
    return text


class CustomerPanel(Static):
    """The customer's context; ``expanded`` says whether the list shows or one line."""

    def show(
        self,
        context: CustomerContext | None,
        now: datetime,
        *,
        expanded: bool,
        more_key: str = "c",
        open_keys: Sequence[str] = DIGITS,
    ) -> None:
        """``more_key``: the key that opens the panel, ``open_keys`` the ones that open each
        listed ticket (``[keys]`` may have moved them)."""
        width = self.size.width or 36
        self.update(
            render_context(
                context,
                now,
                expanded=expanded,
                width=width,
                more_key=more_key,
                open_keys=open_keys,
            )
        )
