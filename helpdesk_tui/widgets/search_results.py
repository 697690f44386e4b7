"""Search results: one row a ticket, with the line of the conversation that matched.

Pure display: given ``SearchHit``s (domain), never the store. Every string from the database
goes through ``domain.text`` (``one_line``/``snippet_parts``: control and bidi characters
spelled out, markup never parsed); the matched words are highlighted in the snippet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from bson import ObjectId
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.search import SearchHit, snippet_parts
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.widgets.ticket_table import STATUS_SHORT, ago, row_key

# (key, label, width, shown from this terminal width); 0: shares what is left.
COLUMNS = (
    ("number", "Ticket", 10, 0),
    ("status", "Status", 8, 0),
    ("subject", "Subject", 0, 0),
    ("customer", "Customer", 16, 100),
    ("updated", "Updated", 7, 100),
    ("match", "Match", 0, 0),
)
WHY = {"number": "ticket number", "customer": "customer named", "filter": ""}
WHERE = {"message": "", "note": "note: ", "description": "description: "}


class SearchTable(DataTable[Text]):
    """Rows keyed by ticket id; ``show`` replaces them, ``append`` adds the next page."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="cursor_up"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.hits: dict[str, SearchHit] = {}
        self.users: Mapping[ObjectId, User] = {}
        self.now: datetime | None = None
        self._widths: dict[str, int] = {}

    def _fit(self, width: int) -> dict[str, int]:
        shown = [c for c in COLUMNS if width >= c[3]]
        fixed = sum(c[2] + 2 for c in shown if c[2]) + 4  # the two shared columns' padding
        left = max(width - fixed - 2, 24)
        subject = max(left * 2 // 5, 12)
        return {
            key: (w or (subject if key == "subject" else left - subject)) for key, _, w, _ in shown
        }

    def on_resize(self) -> None:
        widths = self._fit(self.size.width or self.app.size.width)
        if widths != self._widths:
            self._widths = widths
            self._rebuild()

    def _rebuild(self) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        for key, label, _, _ in COLUMNS:
            if key in self._widths:
                self.add_column(label, width=self._widths[key], key=key)
        self._add(self.hits.values())
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1), animate=False)

    @property
    def current(self) -> SearchHit | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.hits.get(key or "")

    def show(
        self,
        hits: Iterable[SearchHit],
        users: Mapping[ObjectId, User],
        now: datetime,
        *,
        append: bool = False,
        keep_cursor: bool = False,
    ) -> None:
        """The results (``append``: the next page); ``keep_cursor``: a refresh, the cursor
        stays on the same ticket where it is still found."""
        current = self.current
        self.users = {**self.users, **users} if append else users
        self.now = now
        fresh = {row_key(h.ticket): h for h in hits}
        if append:
            fresh = {k: h for k, h in fresh.items() if k not in self.hits}  # moved meanwhile
            self.hits.update(fresh)
            self._add(fresh.values())
            return
        self.hits = fresh
        if not self._widths:
            self._widths = self._fit(self.size.width or self.app.size.width)
        self._rebuild()
        if self.row_count:
            rows = list(self.hits)
            key = row_key(current.ticket) if keep_cursor and current else None
            self.move_cursor(row=rows.index(key) if key in rows else 0, animate=False)

    def _add(self, hits: Iterable[SearchHit]) -> None:
        if not self._widths:
            return
        for hit in hits:
            self.add_row(*self._cells(hit), key=row_key(hit.ticket))

    def _cells(self, hit: SearchHit) -> list[Text]:
        ticket = hit.ticket
        customer = self.users.get(ticket.user) if ticket.user else None
        values = {
            "number": Text(one_line(ticket.ticket_number or "?")),
            "status": Text(STATUS_SHORT[ticket.status]),
            "subject": Text(one_line(ticket.subject or "(no subject)", self._widths["subject"])),
            "customer": Text(one_line(customer.display if customer else "?", 16)),
            "updated": Text(
                ago(self.now - ticket.updated_at) if self.now and ticket.updated_at else "?"
            ),
            "match": self._match(hit),
        }
        return [values[key] for key, _, _, _ in COLUMNS if key in self._widths]

    def _match(self, hit: SearchHit) -> Text:
        width = self._widths.get("match", 30)
        text = Text(no_wrap=True, overflow="ellipsis")
        snippet = hit.snippet
        if snippet is None:
            why = WHY.get(hit.why, "")
            person = self.users.get(hit.ticket.user) if hit.ticket.user else None
            if hit.why == "customer" and person is not None:
                why = f"customer {person.display}"
            text.append(one_line(why, width), style="dim")
            return text
        prefix = WHERE.get(snippet.where, "")
        before, match, after = snippet_parts(snippet, max(width - len(prefix), 12))
        text.append(prefix, style="dim")
        text.append(before)
        text.append(match, style="bold reverse")
        text.append(after)
        text.truncate(width, overflow="ellipsis")
        return text
