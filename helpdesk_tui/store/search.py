"""Search across every ticket: numbers, words in the conversation, customers, field prefixes.

Two paths, chosen at run time from the server's own index list (``listIndexes``):

* **text index** (MongoDB after ``init-db``: ``search_text`` over subject, description,
  ``messages.content`` and tags; or any text index the Ticket Service made): one ``$text``
  query, every word and phrase quoted so that all must occur (MongoDB requires every positive
  phrase), ranked by ``textScore`` then recency. Index-backed: the documents examined are the
  ones that contain the words.
* **bounded scan** (a server without text indexes: SecantusDB, the demo's engine): an anchored
  scan of the newest ``scan_limit`` tickets, on an index (the customer's tickets with ``from:``,
  the assignee's with ``assignee:``/``is:unassigned``, else the most recently updated), then the
  words as case-insensitive regular expressions. It never examines more than ``scan_limit``
  tickets, and the page says so when the bound cut the search ("searched the newest N").

The scan's window ends at an (updatedAt, ``_id``) pair, read as two index ranges
(``window_matches``), so tickets sharing the edge's ``updatedAt`` are not all read.

On both paths results are ranked in tiers: the exact ticket number first, then the tickets of
a customer the words name, then the text matches (relevance or recency). On the scan path the
customers' tickets are those inside the scan (no read beyond it; ``from:`` reaches the rest);
with a text index, their newest by ``customer_tickets``, sorted and limited to the page. The
people the words name are at most PEOPLE_LIMIT, found by ``person_query`` (an e-mail by a range
on ``users.email``; a name by word start), and the page says when there were more.

A page is computed by the server down to its rows: ``messages`` never leaves it; only the
derived row fields and one snippet (the matching line of the newest matching message, or of
the description) do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import OperationFailure

from helpdesk_tui.domain.models import Ticket, mongo_time, utc
from helpdesk_tui.domain.search import (
    SearchHit,
    SearchPage,
    SearchTerms,
    Snippet,
    TextPath,
    parse_search,
)
from helpdesk_tui.store.errors import db_errors
from helpdesk_tui.store.queries import DERIVED_FIELDS, QUEUE_FIELDS, row_fields
from helpdesk_tui.store.search_index import text_index_name
from helpdesk_tui.store.tickets import TicketStore

SCAN_LIMIT = 2_000
# Customers or agents one name fragment may stand for (more: the fragment is too vague).
PEOPLE_LIMIT = 200
SNIPPET_BEFORE = 80
SNIPPET_CHARS = 240
# How long a look at the index list holds (an index built meanwhile is used after this).
INDEX_CHECK_SECONDS = 300.0
# Words that are ticket numbers, not names ("TKT-000123", "123", "#123").
NUMBER_LIKE = re.compile(r"^#?[A-Za-z]{0,8}-?\d+$")
# How long the bounded scan's window (its anchor's size and edge) holds.
WINDOW_SECONDS = 60.0
TEXT_INDEX_MISSING_CODES = (27,)  # IndexNotFound: "text index required for $text query"


def _pattern(word: str) -> str:
    """A word or phrase as a case-insensitive regular expression (spaces: any whitespace)."""
    return r"\s+".join(re.escape(part) for part in word.split())


def _words_clause(words: Sequence[str]) -> dict[str, Any]:
    """Every word in one of the searched fields (the scan path)."""
    clauses = []
    for word in words:
        regex = {"$regex": _pattern(word), "$options": "i"}
        fields = ("subject", "description", "messages.content", "tags", "ticketNumber")
        clauses.append({"$or": [{name: regex} for name in fields]})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def text_search_string(words: Sequence[str]) -> str:
    """``$search`` with every word and phrase quoted: MongoDB then requires all of them."""
    return " ".join(f'"{w.replace(chr(34), " ").strip()}"' for w in words if w.strip(' "'))


def _snippet_of(source: str, kind: Any, regex: str) -> dict[str, Any]:
    """The window of ``source`` (a message or the description) around the first match."""
    found = {"$regexFind": {"input": source, "regex": regex, "options": "i"}}
    start = {"$max": [{"$subtract": ["$$f.idx", SNIPPET_BEFORE]}, 0]}
    return {
        "$let": {
            "vars": {"f": found},
            "in": {
                "where": kind,
                "start": start,
                "idx": "$$f.idx",
                "match": "$$f.match",
                "text": {"$substrCP": [source, start, SNIPPET_CHARS]},
            },
        }
    }


def snippet_stage(words: Sequence[str]) -> dict[str, Any]:
    """``_snippet``: the newest message whose text matches a word, else the description."""
    regex = "|".join(_pattern(w) for w in words if w.strip())
    messages = {"$cond": [{"$isArray": "$messages"}, "$messages", []]}
    is_text = {"$eq": [{"$type": "$$m.content"}, "string"]}
    matching = {
        "$filter": {
            "input": messages,
            "as": "m",
            "cond": {
                "$and": [
                    is_text,
                    {"$regexMatch": {"input": "$$m.content", "regex": regex, "options": "i"}},
                ]
            },
        }
    }
    described = {
        "$and": [
            {"$eq": [{"$type": "$description"}, "string"]},
            {"$regexMatch": {"input": "$description", "regex": regex, "options": "i"}},
        ]
    }
    from_message = {
        "$mergeObjects": [
            _snippet_of(
                "$$m.content",
                {"$cond": [{"$eq": ["$$m.isInternal", True]}, "note", "message"]},
                regex,
            ),
            {"sender": "$$m.sender", "at": "$$m.createdAt"},
        ]
    }
    # "Any match?" by the array's size: SecantusDB reports an out-of-range $arrayElemAt as an
    # object where MongoDB says missing.
    newest = {"$let": {"vars": {"m": {"$arrayElemAt": ["$$found", -1]}}, "in": from_message}}
    fallback = {"$cond": [described, _snippet_of("$description", "description", regex), None]}
    return {
        "$addFields": {
            "_snippet": {
                "$let": {
                    "vars": {"found": matching},
                    "in": {"$cond": [{"$gt": [{"$size": "$$found"}, 0]}, newest, fallback]},
                }
            }
        }
    }


def row_stages(words: Sequence[str]) -> list[dict[str, Any]]:
    """What a result row carries: the queue fields, the derived ones, the snippet; never
    ``messages``."""
    stages: list[dict[str, Any]] = [{"$addFields": row_fields()}]
    if any(w.strip() for w in words):
        stages.append(snippet_stage(words))
    keep = {name: 1 for name in (*QUEUE_FIELDS, *DERIVED_FIELDS)}
    stages.append({"$project": {**keep, "_snippet": 1, "_score": 1, "_tier": 1}})
    return stages


def scan_anchor(filters: dict[str, Any], after: datetime | None) -> tuple[dict[str, Any], str]:
    """The indexed part of a bounded scan and its order: the customer's tickets
    (``customer_tickets``), the assignee's (``assignee_updated``), else the most recently
    updated (``poll_updatedAt``; ``after:`` bounds it, as updatedAt >= createdAt)."""
    if "user" in filters:
        return {"user": filters["user"]}, "createdAt"
    if "assignedTo" in filters:
        return {"assignedTo": filters["assignedTo"]}, "updatedAt"
    if after is not None:
        return {"updatedAt": {"$gte": mongo_time(after)}}, "updatedAt"
    return {}, "updatedAt"


Edge = tuple[Any, Any]  # the scan's cut-off: (order value, _id) of its scan_limit-th newest


def window_matches(
    anchor: dict[str, Any], order: str, edge: Edge | None
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The scan's window as index ranges: ``(first $match, $match after it)`` per part.

    Without an edge the anchor is all (it holds no more than ``scan_limit``). With one, the
    window is the tickets after the edge in (order, ``_id``) order, as two ranges a server
    serves from an index without reading what lies outside: strictly newer than the edge's
    value, and the edge's own value with ``_id`` at or above the edge's (ties broken on
    ``_id``: many tickets may share one ``updatedAt``, after a bulk update or an import). The
    second range is an index range on ``search_updated`` (updatedAt, _id) when the anchor is the
    whole collection; under a customer or an assignee the index gives the tie and ``_id`` is
    checked after it. ``after:`` is implied by the edge (the edge lies inside the anchor)."""
    if edge is None:
        return [(anchor, None)]
    value, key = edge
    rest = {name: clause for name, clause in anchor.items() if name != order}
    newer = {**rest, order: {"$gt": value}}
    if not rest:
        return [(newer, None), ({order: value, "_id": {"$gte": key}}, None)]
    return [(newer, None), ({**rest, order: value}, {"_id": {"$gte": key}})]


def scan_pipeline(
    filters: dict[str, Any],
    words: Sequence[str],
    after: datetime | None,
    *,
    scan_limit: int,
    limit: int,
    customers: Sequence[ObjectId] = (),
    window: tuple[dict[str, Any], dict[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """One part of the bounded scan: the newest ``scan_limit`` tickets of (a part of) the
    window, then the filters and the words, the named customers' tickets first, then newest
    first; the first ``limit`` rows.

    ``customers`` (the people the words name) are matched inside the scan: their tickets need
    not contain the words and rank first (``_tier`` 0), and cost no read beyond the scan."""
    anchor, order = scan_anchor(filters, after)
    first, then = window if window is not None else (anchor, None)
    wanted: dict[str, Any] = dict(filters)
    if words:
        found = _words_clause(words)
        if customers:
            found = {"$or": [found, {"user": {"$in": list(customers)}}]}
        wanted = {"$and": [filters, found]} if filters else found
    stages: list[dict[str, Any]] = [{"$match": first}]
    if then:
        stages.append({"$match": then})
    tier = {"$cond": [{"$in": ["$user", list(customers)]}, 0, 1]} if customers else {"$literal": 1}
    return [
        *stages,
        {"$sort": {order: -1, "_id": -1}},
        {"$limit": scan_limit},
        {"$match": wanted},
        {"$addFields": {"_tier": tier}},
        {"$sort": {"_tier": 1, "updatedAt": -1, "_id": -1}},
        {"$limit": limit},
        *row_stages(words),
    ]


def text_pipeline(
    filters: dict[str, Any], words: Sequence[str], *, limit: int
) -> list[dict[str, Any]]:
    """The text-index query: ``$text`` first (MongoDB requires it), relevance then recency."""
    return [
        {"$match": {"$text": {"$search": text_search_string(words)}, **filters}},
        {"$addFields": {"_score": {"$meta": "textScore"}}},
        {"$sort": {"_score": -1, "updatedAt": -1, "_id": -1}},
        {"$limit": limit},
        *row_stages(words),
    ]


def listed_pipeline(
    match: dict[str, Any], words: Sequence[str], *, limit: int, order: str = "updatedAt"
) -> list[dict[str, Any]]:
    """An indexed tier (numbers; the customers' tickets by ``customer_tickets``): newest first.

    ``order="createdAt"`` sorts on exactly the index's order (no ``_id`` tie-break, which
    MongoDB could only add by sorting every matching ticket), so MongoDB merges the customers'
    index ranges in order and reads no more than ``limit`` of their tickets."""
    sort = {"createdAt": -1} if order == "createdAt" else {order: -1, "_id": -1}
    return [
        {"$match": match},
        {"$sort": sort},
        {"$limit": limit},
        *row_stages(words),
    ]


def person_query(fragment: str) -> dict[str, Any]:
    """The users one fragment names, as a query an index can bound.

    An e-mail (an ``@`` after its first character) is a prefix range on ``email``, lower-cased
    (the index ``search_people_email``: only the people it names are read). Anything else is a
    word start in the name or the e-mail (``tanaka`` finds "Kenji Tanaka" and
    "kenji@tanaka.example", not "Matanaka"), case-insensitive: with ``search_people_name`` MongoDB
    reads the index keys and only the documents that match."""
    text = fragment.strip()
    if "@" in text[1:] and " " not in text:
        low = text.lower()
        return {"email": {"$gte": low, "$lt": low + "\U0010ffff"}}
    regex = {"$regex": r"(?:^|[\s.@_+-])" + _pattern(text), "$options": "i"}
    return {"$or": [{"name": regex}, {"email": regex}]}


class TicketSearch:
    """Search on one store; which path it takes is looked up on the server (and re-checked)."""

    def __init__(self, store: TicketStore, scan_limit: int = SCAN_LIMIT) -> None:
        self.store = store
        self.scan_limit = scan_limit
        self._index: tuple[float, str | None] | None = None
        self._windows: dict[str, tuple[float, int, Any]] = {}

    @property
    def tickets(self) -> Collection[Any]:
        return self.store.tickets

    def text_index(self) -> str | None:
        """The text index to use, from ``listIndexes`` (cached for INDEX_CHECK_SECONDS)."""
        now = time.monotonic()
        if self._index is None or now - self._index[0] > INDEX_CHECK_SECONDS:
            self._index = (now, text_index_name(self.tickets))
        return self._index[1]

    # --- people --------------------------------------------------------------------------

    def _people(self, fragments: Sequence[str]) -> tuple[list[ObjectId], str | None]:
        """Users every fragment names (``person_query``), at most PEOPLE_LIMIT of them, and a
        note when there were more (the first PEOPLE_LIMIT are used)."""
        clauses = [person_query(f) for f in fragments]
        query = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        found = [d["_id"] for d in self.store.users.find(query, {"_id": 1}).limit(PEOPLE_LIMIT + 1)]
        if len(found) <= PEOPLE_LIMIT:
            return found, None
        said = " ".join(fragments)
        return found[:PEOPLE_LIMIT], (
            f"“{said}” names more than {PEOPLE_LIMIT} people: the first {PEOPLE_LIMIT} were "
            "used (add a first name or the e-mail)"
        )

    def _named_customers(self, words: Sequence[str]) -> tuple[list[ObjectId], str | None]:
        """Users whose name or e-mail holds every word ("kenji tanaka", "kenji@tanaka.example")."""
        usable = [w for w in words if len(w.strip()) >= 2 and not NUMBER_LIKE.match(w.strip())]
        if not usable or len(usable) != len(words):
            return [], None
        return self._people(usable)

    def filters(
        self, terms: SearchTerms, me: ObjectId | None
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """The field prefixes as a ticket filter; None (and why) when one matches nobody."""
        where: dict[str, Any] = {}
        notes: list[str] = []
        if terms.customers:
            ids: list[ObjectId] = []
            for name in terms.customers:
                found, said = self._people([name])
                if not found:
                    return None, [f"no customer matches “{name}”"]
                ids += found
                notes += [said] if said else []
            where["user"] = {"$in": list(dict.fromkeys(ids))}
        assignees: list[ObjectId | None] = []
        for name in terms.assignees:
            if name.lower() == "me":
                assignees.append(me)
            elif name.lower() in ("none", "nobody"):
                assignees.append(None)
            else:
                found, said = self._people([name])
                if not found:
                    return None, [f"no agent matches “{name}”"]
                assignees += found
                notes += [said] if said else []
        if terms.mine:
            assignees.append(me)
        if terms.unassigned:
            assignees.append(None)
        if assignees:
            unique = list(dict.fromkeys(assignees))
            where["assignedTo"] = unique[0] if len(unique) == 1 else {"$in": unique}
        if terms.tags:
            where["tags"] = terms.tags[0] if len(terms.tags) == 1 else {"$all": list(terms.tags)}
        if terms.statuses:
            where["status"] = {"$in": [s.value for s in terms.statuses]}
        created: dict[str, Any] = {}
        if terms.after is not None:
            created["$gte"] = mongo_time(terms.after)
        if terms.before is not None:
            created["$lt"] = mongo_time(terms.before)
        if created:
            where["createdAt"] = created
        return where, notes

    # --- the search ----------------------------------------------------------------------

    @db_errors
    def search(
        self,
        text: str | SearchTerms,
        *,
        me: ObjectId | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> SearchPage:
        """One page of results for what the agent typed, best first."""
        now = self.store.now()
        terms = parse_search(text, now) if isinstance(text, str) else text
        skip, limit = max(skip, 0), max(limit, 1)
        path: TextPath = "text index" if self.text_index() else "scan"
        notes = list(terms.notes)

        def page(hits: list[SearchHit], more: bool, candidates: int | None = None) -> SearchPage:
            scanned = None if candidates is None else min(candidates, self.scan_limit)
            bounded = candidates is not None and candidates > self.scan_limit
            return SearchPage(
                tuple(hits), skip, limit, more, path, terms, scanned, bounded, tuple(notes)
            )

        if terms.empty:
            return page([], False)
        filters, said = self.filters(terms, me)
        notes += said
        if filters is None:
            return page([], False)
        words = list(terms.words)
        wanted = skip + limit + 1  # one more than the page: is there a next one?
        tiers: list[tuple[str, list[list[dict[str, Any]]]]] = []
        numbers = terms.number_candidates(self.store.settings.number_format)
        if numbers:
            match = {"ticketNumber": {"$in": list(numbers)}, **filters}
            tiers.append(("number", [listed_pipeline(match, words, limit=len(numbers))]))
        customers: list[ObjectId] = []
        if words and not terms.customers:  # with from: the words are words, not a name
            customers, named = self._named_customers(words)
            notes += [named] if named else []
        scanned: int | None = None
        if path == "text index" and words:
            if customers:  # newest created first on customer_tickets: at most `wanted` read
                match = {**filters, "user": {"$in": customers}}  # no from: (see above)
                pipeline = listed_pipeline(match, [], limit=wanted, order="createdAt")
                tiers.append(("customer", [pipeline]))
            tiers.append(("text", [text_pipeline(filters, words, limit=wanted)]))
        else:
            # The customers the words name are found inside the scan (first), not by a read
            # of all their tickets: the scan's bound is the search's bound.
            scanned, edge = self._window(filters, terms.after)
            anchor, order = scan_anchor(filters, terms.after)
            parts = [
                scan_pipeline(
                    filters,
                    words,
                    terms.after,
                    scan_limit=self.scan_limit,
                    limit=wanted,
                    customers=customers,
                    window=window,
                )
                for window in window_matches(anchor, order, edge)
            ]
            tiers.append(("text" if words else "filter", parts))
            path = "scan"  # also with a text index: fields only, no words to look up
        seen: set[Any] = set()
        hits: list[SearchHit] = []
        for why, pipelines in tiers:
            try:
                docs = [doc for pipeline in pipelines for doc in self.tickets.aggregate(pipeline)]
            except OperationFailure as error:
                if (
                    why == "text"
                    and path == "text index"
                    and error.code in TEXT_INDEX_MISSING_CODES
                ):
                    self._index = None  # dropped meanwhile: look again next time
                    notes.append("the text index is gone; search again to scan instead")
                    continue
                raise
            if len(pipelines) > 1:  # the window's parts: one order again
                docs = sorted(docs, key=_scan_order, reverse=True)[:wanted]
            for doc in docs:
                key = doc.get("_id")
                if key in seen:
                    continue
                seen.add(key)
                hits.append(_hit(doc, "customer" if doc.get("_tier") == 0 else why))
        return page(hits[skip : skip + limit], len(hits) > skip + limit, scanned)

    def _window(self, filters: dict[str, Any], after: datetime | None) -> tuple[int, Edge | None]:
        """How many tickets the scan's anchor holds (an index count capped at one more than
        ``scan_limit``; the collection's count when the anchor is everything), and, when that
        is more than the scan reads, its edge: the (order value, ``_id``) of its
        ``scan_limit``-th newest in that order (a covered read of ``search_updated`` on
        MongoDB). Both are kept for WINDOW_SECONDS per anchor: an agent refining a search pays
        for them once (tickets updated meanwhile are newer: still inside)."""
        anchor, order = scan_anchor(filters, after)
        key = repr(anchor)
        now = time.monotonic()
        cached = self._windows.get(key)
        if cached is not None and now - cached[0] < WINDOW_SECONDS:
            return cached[1], cached[2]
        if not anchor:
            total = self.tickets.estimated_document_count()
        else:
            total = self.tickets.count_documents(anchor, limit=self.scan_limit + 1)
        edge: Edge | None = None
        if total > self.scan_limit:
            found = (
                self.tickets.find(anchor, {order: 1, "_id": 1})
                .sort([(order, -1), ("_id", -1)])
                .skip(self.scan_limit - 1)
                .limit(1)
            )
            doc = next(iter(found), None)
            # A ticket without a date at the edge (malformed): no range can hold it; the scan
            # then reads the anchor whole, bounded by its $limit still.
            if doc is not None and isinstance(doc.get(order), datetime):
                edge = (doc[order], doc["_id"])
        if len(self._windows) > 64:
            self._windows.clear()
        self._windows[key] = (now, total, edge)
        return total, edge


def _scan_order(doc: dict[str, Any]) -> tuple[int, float, str]:
    """A scan row's place (customers first, then newest updated, then the higher ``_id``),
    for merging the window's parts; reversed. Malformed values sort last, never raise."""
    updated = doc.get("updatedAt")
    at = updated.timestamp() if isinstance(updated, datetime) else float("-inf")
    return (int(doc.get("_tier") == 0), at, str(doc.get("_id")))


def _hit(doc: dict[str, Any], why: str) -> SearchHit:
    raw = doc.pop("_snippet", None)
    doc.pop("_score", None)
    doc.pop("_tier", None)
    return SearchHit(Ticket.from_mongo(doc), _snippet(raw), why)


def _snippet(raw: Any) -> Snippet | None:
    """The server's snippet as a ``Snippet`` (anything malformed: none)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        return None
    start, idx = raw.get("start"), raw.get("idx")
    match = raw.get("match")
    if not isinstance(start, int) or not isinstance(idx, int) or not isinstance(match, str):
        return None
    at = raw.get("at")
    return Snippet(
        where=str(raw.get("where") or "message"),
        text=raw["text"],
        start=idx - start,
        end=idx - start + len(match),
        sender=raw.get("sender") if isinstance(raw.get("sender"), ObjectId) else None,
        at=utc(at) if isinstance(at, datetime) else None,
    )
