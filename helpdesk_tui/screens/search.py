"""Search (``/`` on the queue): every ticket, by number, words, customer and field prefixes.

The query box on top, the results below (the matching line of the conversation beside each),
and one line saying how it was searched: by the text index, or by a bounded scan and how far
it reached. Enter opens a result; ``/`` edits the query; ``q`` goes back to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bson import ObjectId
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.input import Selection

from helpdesk_tui.domain.models import User
from helpdesk_tui.domain.search import SearchPage
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import TicketsChanged
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.search import TicketSearch
from helpdesk_tui.widgets.line import Line
from helpdesk_tui.widgets.safe import SafeInput
from helpdesk_tui.widgets.search_results import SearchTable
from helpdesk_tui.workers import WorkFailed

PAGE = 50
PREFETCH_ROWS = 10
PLACEHOLDER = 'words, "a phrase", TKT-123, from:, tag:, status:, assignee:, is:unassigned, after:7d'


@dataclass(frozen=True)
class Found:
    page: SearchPage
    users: dict[ObjectId, User]
    now: datetime


@dataclass
class Searched(Message, bubble=False):
    """Results of search ``generation``: the first page (``keep``: the cursor stays on its
    ticket), or ``more`` of them for the end of the list."""

    found: Found
    generation: int
    keep: bool = False
    more: bool = False


class SearchScreen(HelpdeskScreen):
    CSS_PATH = Path(__file__).resolve().parent.parent / "styles" / "search.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open", priority=True, id="open"),
        Binding("slash", "edit", "Search", priority=True, id="search"),
        Binding("escape", "leave", "Back", show=False, priority=True, id="leave"),
        Binding("question_mark", "help", "Help", priority=True, id="help"),
        Binding("q", "close", "Back", priority=True, id="close"),
    ]
    # In the query box, enter searches and escape goes to the results; other keys are text.
    TYPING_ACTIONS = frozenset({"open", "leave"})

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query.strip()
        self.page: SearchPage | None = None
        self._loading_more = False
        self._searcher: TicketSearch | None = None
        self._stale = False  # a ticket shown changed while another screen was on top
        self._generation = 0  # the newest search: an older one's rows are not shown

    def compose(self) -> ComposeResult:
        yield Static(Text("Search all tickets", style="bold"), id="search-title")
        yield SafeInput(placeholder=PLACEHOLDER, id="search-box")  # a paste is text
        yield SearchTable(id="search-results")
        yield Line(id="search-info")
        yield Footer()

    @property
    def box(self) -> Input:
        return self.query_one("#search-box", Input)

    @property
    def table(self) -> SearchTable:
        return self.query_one(SearchTable)

    @property
    def searcher(self) -> TicketSearch:
        if self._searcher is None:
            helpdesk = self.helpdesk
            limit = helpdesk.config.search.scan_limit
            self._searcher = TicketSearch(helpdesk.store, scan_limit=limit)
        return self._searcher

    def on_mount(self) -> None:
        self.box.value = self.query_text
        self.set_focus(self.box)  # now: keys typed after `/` are the query
        # The last search, selected: typing replaces it (`/ tanaka enter` twice searches
        # "tanaka", not "tanakatanaka"); an arrow key keeps it to refine.
        self.box.selection = Selection(0, len(self.query_text))
        self._info(Text("Type a search and press enter.", style="dim"))
        if self.query_text:
            self.run_search(self.query_text)

    def _info(self, text: Text) -> None:
        self.query_one("#search-info", Line).set_text(text)

    # --- searching -------------------------------------------------------------------------

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        """A ticket shown changed (its status, a reply): search again, keeping the cursor on
        it; when this screen is under another (the ticket), once the agent comes back."""
        shown = {h.ticket.id for h in self.table.hits.values()}
        if not (changed.reload or changed.ids & shown) or not self.query_text:
            return
        if self.app.screen is not self:
            self._stale = True
            return
        self.run_search(self.query_text, keep=True)

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.run_search(self.query_text, keep=True)

    def run_search(self, text: str, *, keep: bool = False) -> None:
        self.query_text = text.strip()
        if not self.query_text:
            self.table.show([], {}, self.helpdesk.store.now())
            self._info(Text("Type a search and press enter.", style="dim"))
            self.set_focus(self.box)
            self.release_keys()
            return
        searcher, me, query = self.searcher, self.helpdesk.me.id, self.query_text
        if not keep:
            self._info(Text(f"searching “{one_line(query, 40)}”…", style="dim"))
        limit = max(PAGE, self.table.row_count) if keep else PAGE
        self._generation += 1
        self._search(searcher, query, me, limit, keep, self._generation)

    @work(thread=True, exit_on_error=False, group="search", exclusive=True)
    def _search(
        self,
        searcher: TicketSearch,
        query: str,
        me: ObjectId,
        limit: int,
        keep: bool,
        generation: int,
    ) -> None:
        found = self._fetch(searcher, query, me, 0, limit)
        self.post_message(Searched(found, generation, keep=keep))

    @on(WorkFailed)
    def _not_searched(self, message: WorkFailed) -> None:
        """The search failed (the notification says why): the line no longer says "searching"."""
        if message.work == "_search_more":
            self._loading_more = False  # the next move near the end asks again
        if message.work != "_search":
            return
        query = one_line(self.query_text, 40)
        self._info(Text(f"“{query}” was not searched; enter tries again.", style="yellow"))
        self.release_keys()

    @staticmethod
    def _fetch(
        searcher: TicketSearch, query: str, me: ObjectId, skip: int, limit: int = PAGE
    ) -> Found:
        page = searcher.search(query, me=me, skip=skip, limit=limit)
        store = searcher.store
        ids = [h.ticket.user for h in page.hits] + [
            h.snippet.sender for h in page.hits if h.snippet
        ]
        return Found(page, store.users_by_ids(ids), store.now())

    @on(Searched)
    def _found(self, message: Searched) -> None:
        if message.more or message.generation != self._generation:
            return  # more rows (below), or a later search replaces these
        found = message.found
        self.page = found.page
        self.table.show(found.page.hits, found.users, found.now, keep_cursor=message.keep)
        self.update_info()
        self.release_keys()

    def update_info(self) -> None:
        page = self.page
        if page is None:
            return
        shown = self.table.row_count
        count = f"{shown}{'+' if page.has_more else ''} result{'s' if shown != 1 else ''}"
        parts = [count, page.cost]  # the query is in the box above
        text = Text(" · ".join(parts))
        for note in page.notes:
            text.append(f" · {one_line(note, 80)}", style="yellow")
        self._info(text)

    @on(DataTable.RowHighlighted)
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        page, table = self.page, self.table
        if (
            page is None
            or not page.has_more
            or self._loading_more
            or event.cursor_row < table.row_count - PREFETCH_ROWS
        ):
            return
        self._loading_more = True
        self._search_more(
            self.searcher, self.query_text, self.helpdesk.me.id, table.row_count, self._generation
        )

    @work(thread=True, exit_on_error=False, group="more")
    def _search_more(
        self, searcher: TicketSearch, query: str, me: ObjectId, skip: int, generation: int
    ) -> None:
        self.post_message(Searched(self._fetch(searcher, query, me, skip), generation, more=True))

    @on(Searched)
    def _found_more(self, message: Searched) -> None:
        if not message.more:
            return
        self._loading_more = False
        if message.generation != self._generation:
            return  # the rows of an earlier search: a new one replaced them
        found = message.found
        self.page = found.page
        self.table.show(found.page.hits, found.users, found.now, append=True)
        self.update_info()

    # --- actions ---------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.box.has_focus:
            # Keys typed after enter (`q`, `j`, enter) are for the results: they wait for them.
            self.set_focus(self.table)
            self.hold_keys()
            self.run_search(self.box.value)
            return
        hit = self.table.current
        if hit is None or not self._guarded(lambda: hit.ticket.object_id):
            return
        self.helpdesk.open_ticket(hit.ticket.object_id, hit.ticket)

    def action_edit(self) -> None:
        self.set_focus(self.box)

    def action_leave(self) -> None:
        if self.box.has_focus and self.table.row_count:
            self.set_focus(self.table)
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.query_text)

    def action_help(self) -> None:
        self.helpdesk.show_help(self)
