"""Shared by the benchmark scripts: result lines, RSS, demo datasets and a scripted database.

The scripted database (``Engine``) holds generated tickets in memory and answers the queries the
app sends -- the queue's aggregation pipeline, ``find``/``find_one``, the ``$facet`` counts --
well enough for the app to run on it, fast enough that its time is negligible next to ours.
It is used two ways:

* in process, behind ``FakeDatabase``/``FakeCollection`` (duck-typed pymongo collections), so
  ``app.run_test`` benchmarks time the app and not mongomock (whose sorted find over 20,000
  documents takes ~0.9 s);
* over the wire, behind ``_wire_server.py`` (a mockupdb server in its own process), so the real
  ``helpdesk-tui`` process talks to it with the real driver and pymongo's command monitoring
  counts what it fetches.

What it does not do: it applies ``$match`` (with the operators the app uses), ``$sort``,
``$skip``, ``$limit``, ``$project`` and ``$count`` faithfully, and precomputes the derived SLA
fields (``_rank``, ``_due``, ``_riskAt``, ``_messageCount`` ...) per ticket the way
``deadline_stages`` defines them, instead of evaluating ``$addFields`` expressions.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bson
from bson import ObjectId
from bson.codec_options import CodecOptions

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable

# --- result lines ------------------------------------------------------------------------------


def emit(
    id: str,
    figure: str,
    target: str,
    measured: str,
    ok: bool | None,
    value: float | None = None,
    **details: Any,
) -> dict[str, Any]:
    """Print one result as a JSON line (run.py collects these). ``ok`` None: informational."""
    row = {
        "id": id,
        "figure": figure,
        "target": target,
        "measured": measured,
        "ok": ok,
        "value": value,
        "details": details,
    }
    _out(json.dumps(row, default=str))
    return row


def _out(line: str) -> None:
    # The real stdout: inside ``run_test`` Textual captures sys.stdout.
    stream = sys.__stdout__ or sys.stdout
    stream.write(line + "\n")
    stream.flush()


def fail(id: str, figure: str, error: str) -> None:
    """A figure that could not be measured (run.py exits non-zero)."""
    _out(json.dumps({"id": id, "figure": figure, "error": error}))


def note(text: str) -> None:
    """Progress on stderr (stdout holds only result lines)."""
    stream = sys.__stderr__ or sys.stderr
    stream.write(f"  · {text}\n")
    stream.flush()


def installed_bytecode() -> None:
    """Compile the package's bytecode, as ``pip install`` does for a user: an editable install
    under ``PYTHONDONTWRITEBYTECODE`` (this environment) would otherwise compile every module
    changed since the last compile on every start (~60 ms of the app's start-up here), which
    no installed app pays. Idempotent; nothing is written when the bytecode is current."""
    import compileall

    compileall.compile_dir(
        Path(__file__).resolve().parent.parent / "helpdesk_tui", quiet=1, workers=1
    )


def quick() -> bool:
    return "--quick" in sys.argv or os.environ.get("BENCH_QUICK") == "1"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def median(values: Iterable[float]) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    mid = len(data) // 2
    return data[mid] if len(data) % 2 else (data[mid - 1] + data[mid]) / 2


def percentile(values: Iterable[float], share: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    return data[min(len(data) - 1, round(share * (len(data) - 1)))]


# --- memory --------------------------------------------------------------------------------------


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB (psutil if installed, else /proc/<pid>/status VmRSS)."""
    try:
        import psutil  # type: ignore[import-not-found]

        process = psutil.Process() if pid == "self" else psutil.Process(int(pid))
        return float(process.memory_info().rss) / 2**20
    except ImportError:
        pass
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


# --- datasets ------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ACTIVE = ("open", "in_progress", "waiting")


def dataset(
    tickets: int,
    *,
    now: datetime = NOW,
    seed: int = 7,
    all_mine: bool = True,
    long_ticket_messages: int = 0,
    base: int = 5_000,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], ObjectId]:
    """(users, tickets, demo agent id) from the demo generator.

    ``all_mine``: every ticket is active and assigned to the demo agent, so the app's first
    view ("My tickets") holds all ``tickets`` of them. Beyond ``base`` generated tickets the
    rest are clones (new ``_id`` and number, shared message lists): generating 100,000 takes
    ~15 s and as much memory again. ``long_ticket_messages``: make the most urgent ticket (row 0
    of the view) a conversation of that many messages.
    """
    from helpdesk_tui.demo import seed as demo

    generated = demo.generate(now, tickets=min(tickets, base) * 2, customers=200, seed=seed)
    agent = next(u["_id"] for u in generated.users if u["email"] == demo.DEMO_AGENT_EMAIL)
    pool = [t for t in generated.tickets if isinstance(t.get("messages"), list)]
    if all_mine:
        pool = [dict(t, assignedTo=agent) for t in pool if t.get("status") in ACTIVE]
    pool = pool[: min(tickets, base)]
    docs: list[dict[str, Any]] = []
    for index in range(tickets):
        template = pool[index % len(pool)]
        doc = dict(template) if index < len(pool) else {**template, "_id": ObjectId()}
        doc["ticketNumber"] = f"TKT-{index + 1:06d}"
        docs.append(doc)
    if long_ticket_messages and docs:
        docs[0] = long_ticket(docs[0], agent, long_ticket_messages, now)
    return generated.users, docs, agent


def long_ticket(doc: dict[str, Any], agent: ObjectId, count: int, now: datetime) -> dict[str, Any]:
    """An old, running, urgent ticket (first in deadline order) with ``count`` messages."""
    from helpdesk_tui.domain.models import new_message_doc

    created = now - timedelta(days=20)
    customer = doc["user"]
    messages = []
    for i in range(count):
        sender = customer if i % 2 == 0 else agent
        text = (
            f"Message {i + 1}: the parcel for order #{1000 + i} was scanned at the depot, "
            "then nothing. Could you check with the courier and tell me when it will arrive? "
            "Thanks for your patience with this long thread."
        )
        messages.append(
            new_message_doc(
                sender=sender,
                content=text,
                now=created + timedelta(minutes=30 * i),
                is_internal=(i % 10 == 5),
                attachments=["photo.jpg"] if i % 25 == 0 else [],
            )
        )
    return {
        **doc,
        "_id": ObjectId(),
        "subject": "A very long conversation (200 messages)",
        "priority": "urgent",
        "status": "in_progress",
        "assignedTo": agent,
        "messages": messages,
        "createdAt": created,
        "updatedAt": messages[-1]["createdAt"] if messages else created,
        "__v": count,
    }


# --- the scripted database ------------------------------------------------------------------------

MISSING = object()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_DEADLINE_MS = 253_402_300_799_000
FAR_LEASE = datetime(9999, 1, 1, tzinfo=UTC)
CODEC = CodecOptions(tz_aware=True, tzinfo=UTC)


def _aware(value: Any) -> Any:
    """Request documents decoded without tz_aware carry naive UTC datetimes."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if isinstance(value, Mapping):
        return {k: _aware(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_aware(v) for v in value]
    return value


def _compare(value: Any, op: str, arg: Any) -> bool:
    if value is MISSING or value is None:
        return False
    try:
        if op == "$gt":
            return bool(value > arg)
        if op == "$gte":
            return bool(value >= arg)
        if op == "$lt":
            return bool(value < arg)
        return bool(value <= arg)
    except TypeError:
        return False


def _eq(value: Any, wanted: Any) -> bool:
    if wanted is None:
        return value is MISSING or value is None
    if isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return bool(value == wanted)


def matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    """MongoDB query semantics for the operators the app uses (top-level fields only)."""
    for key, cond in query.items():
        if key == "$and":
            if not all(matches(doc, part) for part in cond):
                return False
            continue
        if key == "$or":
            if not any(matches(doc, part) for part in cond):
                return False
            continue
        value = doc.get(key, MISSING)
        if isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
            for op, arg in cond.items():
                if op == "$in":
                    if not any(_eq(value, a) for a in arg):
                        return False
                elif op == "$nin":
                    if any(_eq(value, a) for a in arg):
                        return False
                elif op == "$ne":
                    if _eq(value, arg):
                        return False
                elif op == "$eq":
                    if not _eq(value, arg):
                        return False
                elif op == "$all":
                    if not isinstance(value, list) or not all(a in value for a in arg):
                        return False
                elif op in ("$gt", "$gte", "$lt", "$lte"):
                    if not _compare(value, op, arg):
                        return False
                elif op == "$exists":
                    if (value is not MISSING) != bool(arg):
                        return False
                elif op == "$type":
                    if arg != "date" or not isinstance(value, datetime):
                        return False
                elif op == "$regex":
                    flags = re.IGNORECASE if "i" in str(cond.get("$options", "")) else 0
                    if not isinstance(value, str) or not re.search(arg, value, flags):
                        return False
                elif op == "$options":
                    continue
                else:
                    raise NotImplementedError(f"scripted database: operator {op}")
        elif not _eq(value, cond):
            return False
    return True


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is MISSING or value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, ObjectId):
        return (3, value.binary)
    if isinstance(value, datetime):
        return (5, value)
    return (9, str(value))


def sort_docs(docs: list[dict[str, Any]], spec: Mapping[str, int]) -> list[dict[str, Any]]:
    result = list(docs)
    for name, direction in reversed(list(spec.items())):
        result.sort(key=lambda d, n=name: _sort_key(d.get(n, MISSING)), reverse=direction < 0)
    return result


def project(doc: Mapping[str, Any], projection: Mapping[str, Any] | None) -> dict[str, Any]:
    """MongoDB projection: inclusion, exclusion or ``$slice`` (top-level fields)."""
    if not projection:
        return dict(doc)
    plain = {k: v for k, v in projection.items() if not isinstance(v, Mapping)}
    sliced = {k: v for k, v in projection.items() if isinstance(v, Mapping)}
    included = {k for k, v in plain.items() if v}
    excluded = {k for k, v in plain.items() if not v}
    if included:
        out = {k: doc[k] for k in included if k in doc}
        if "_id" not in excluded and "_id" in doc:
            out["_id"] = doc["_id"]
        out.update({k: doc[k] for k in sliced if k in doc})
    else:
        out = {k: v for k, v in doc.items() if k not in excluded}
    for name, spec in sliced.items():
        if isinstance(out.get(name), list) and "$slice" in spec:
            n = spec["$slice"]
            out[name] = out[name][n:] if n < 0 else out[name][:n]
    return out


def queue_row(doc: Mapping[str, Any], policy: Any) -> dict[str, Any]:
    """A ticket as the queue pipeline sees it after ``deadline_stages`` (without messages)."""
    from helpdesk_tui.domain.models import Priority

    raw = doc.get("messages")
    messages = raw if isinstance(raw, list) else []
    user = doc.get("user")
    public = [m for m in messages if m.get("isInternal") is not True and m.get("sender") != user]
    try:
        priority = Priority(doc.get("priority"))
    except ValueError:
        priority = Priority.MEDIUM
    target = policy.target(priority)
    minutes = target.resolution_minutes if public else target.first_response_minutes
    status = doc.get("status")
    rank = 2 if status in ("resolved", "closed") else 0
    shown = [m for m in messages if m.get("isInternal") is not True]
    customer_last = bool(shown) and shown[-1].get("sender") == user
    if status == "waiting" and policy.pause_when_waiting and not customer_last:
        rank = 1
    created = doc.get("createdAt")
    created_ms = (
        int((created - EPOCH).total_seconds() * 1000)
        if isinstance(created, datetime)
        else NO_DEADLINE_MS
    )
    row = {k: v for k, v in doc.items() if k not in ("messages", "description")}
    row.update(
        _firstResponseAt=public[0].get("createdAt") if public else None,
        _messageCount=len(messages),
        _lastMessageAt=messages[-1].get("createdAt") if messages else None,
        _lastFromCustomer=customer_last,
        _rank=rank,
        _due=created_ms + minutes * 60_000,
        _riskAt=created_ms + minutes * 60_000 * (1 - policy.at_risk_share),
        _prio=priority.rank,
    )
    if not messages:  # as $arrayElemAt on an empty array: the field is absent
        del row["_firstResponseAt"], row["_lastMessageAt"]
    return row


class Engine:
    """The scripted database's data and query evaluation (thread-safe for reads)."""

    def __init__(
        self,
        users: list[dict[str, Any]],
        tickets: list[dict[str, Any]],
        policy: Any = None,
    ) -> None:
        from helpdesk_tui.domain.sla import SlaPolicy

        self.policy = policy or SlaPolicy()
        self.users = {u["_id"]: u for u in users}
        self.tickets = {t["_id"]: t for t in tickets}
        self.rows = [queue_row(t, self.policy) for t in tickets]
        self.row_by_id = {r["_id"]: r for r in self.rows}
        self.events: list[dict[str, Any]] = []
        self._entries: dict[ObjectId, dict[str, Any]] | None = None  # queue_index, built lazily
        self._matched: dict[str, list[dict[str, Any]]] = {}
        self._sorted: dict[str, list[dict[str, Any]]] = {}
        self._found: dict[str, list[dict[str, Any]]] = {}

    # --- changes (the "other agents" of the event benchmarks) ----------------------------

    def update_ticket(self, ticket_id: ObjectId, **fields: Any) -> dict[str, Any]:
        doc = {**self.tickets[ticket_id], **fields}
        self.tickets[ticket_id] = doc
        row = queue_row(doc, self.policy)
        old = self.row_by_id[ticket_id]
        old.clear()
        old.update(row)  # in place: cached match/sort lists hold this dict
        if self._entries is not None:
            self._entries[ticket_id] = self._entry(doc)
            self._entry_cache.clear()
        self._found.clear()
        return doc

    # --- the queue index (``queue_index``, as a maintained one holds it) -------------------

    def _entry(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        from helpdesk_tui.store.queue_index import derive

        entry = {"_id": doc["_id"], **derive(doc, self.policy)}
        return bson.decode(bson.encode(entry), codec_options=CODEC)  # dates as stored

    @property
    def entries(self) -> dict[ObjectId, dict[str, Any]]:
        if self._entries is None:
            self._entries = {i: self._entry(t) for i, t in self.tickets.items()}
            self._entry_cache: dict[str, list[dict[str, Any]]] = {}
        return self._entries

    def match_entries(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        entries = self.entries
        key = repr(query)
        found = self._entry_cache.get(key)
        if found is None:
            found = [e for e in entries.values() if matches(e, query)]
            self._entry_cache[key] = found
        return found

    def _entries_pipeline(self, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``count_documents`` as pymongo sends it: $match, optional $skip/$limit, $group."""
        docs: list[dict[str, Any]] = list(self.entries.values())
        for stage in stages:
            ((name, arg),) = stage.items()
            if name == "$match":
                docs = self.match_entries(arg)
            elif name == "$skip":
                docs = docs[int(arg) :]
            elif name == "$limit":
                docs = docs[: int(arg)]
            elif name == "$group" and set(arg) == {"_id", "n"}:
                return [{"_id": arg["_id"], "n": len(docs)}] if docs else []
            else:
                raise NotImplementedError(f"scripted database: queue_index stage {name}")
        return [dict(d) for d in docs]

    def invalidate(self) -> None:
        """Forget cached results (after changes that move tickets between views)."""
        self._matched.clear()
        self._sorted.clear()
        self._found.clear()

    # --- queries ---------------------------------------------------------------------------

    def match_rows(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        key = repr(query)
        found = self._matched.get(key)
        if found is None:
            found = [r for r in self.rows if matches(r, query)]
            self._matched[key] = found
        return found

    def aggregate(self, collection: str, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if collection == "queue_index":
            return self._entries_pipeline(pipeline)
        if collection != "tickets":
            return []
        if pipeline and "$facet" in pipeline[0]:
            facets = pipeline[0]["$facet"]
            return [{name: self._run(stages) for name, stages in facets.items()}]
        if any("$lookup" in stage for stage in pipeline):
            return self._joined(pipeline)
        return self._run(pipeline)

    def _joined(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``$match`` on tickets, then ``$lookup``s with localField/foreignField and a pipeline
        of ``$sort``/``$limit`` (the open ticket with its audit trail, store/opened.py)."""
        docs: list[dict[str, Any]] = []
        for stage in pipeline:
            ((name, arg),) = stage.items()
            if name == "$match":
                docs = [dict(d) for d in self._find_tickets(arg)]
            elif name == "$lookup":
                steps = {k: v for step in arg.get("pipeline", []) for k, v in step.items()}
                for doc in docs:
                    doc[arg["as"]] = self._find(
                        arg["from"],
                        {arg["foreignField"]: doc.get(arg["localField"])},
                        None,
                        steps.get("$sort"),
                        0,
                        int(steps.get("$limit", 0)),
                    )
            else:
                raise NotImplementedError(f"scripted database: stage {name} after $lookup")
        return docs

    def _run(self, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] | None = None
        key = ""  # the stages so far, while they are all $match/$addFields/$sort (cacheable)
        for stage in stages:
            ((name, arg),) = stage.items()
            if name == "$match":
                wanted = arg.get("_id") if isinstance(arg, Mapping) else None
                if docs is None and isinstance(wanted, Mapping) and set(wanted) == {"$in"}:
                    docs = [self.row_by_id[i] for i in wanted["$in"] if i in self.row_by_id]
                    continue  # rows by id (a page's tickets): nothing worth caching
                if docs is None:
                    key = repr(arg)
                    docs = self.match_rows(arg)
                elif key:
                    key += f"|{arg!r}"
                    cached = self._matched.get(key)
                    if cached is None:
                        cached = [d for d in docs if matches(d, arg)]
                        self._matched[key] = cached
                    docs = cached
                else:
                    docs = [d for d in docs if matches(d, arg)]
            elif name == "$addFields":
                continue  # precomputed by queue_row
            elif name == "$sort":
                assert docs is not None
                key = f"{key}|{arg!r}" if key else ""
                cached = self._sorted.get(key) if key else None
                if cached is None:
                    cached = sort_docs(docs, arg)
                    if key:
                        self._sorted[key] = cached
                docs = cached
            elif name == "$skip":
                key, docs = "", (docs or [])[int(arg) :]
            elif name == "$limit":
                key, docs = "", (docs or [])[: int(arg)]
            elif name == "$project":
                key, docs = "", [project(d, arg) for d in docs or []]
            elif name == "$count":
                return [{arg: len(docs or [])}] if docs else []
            else:
                raise NotImplementedError(f"scripted database: stage {name}")
        return [dict(d) for d in docs or []]

    def find(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
        sort: Mapping[str, int] | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        query = query or {}
        if collection in ("tickets", "queue_index"):
            key = repr((query, projection, sort, skip, limit))
            found = self._found.get(key)
            if found is None:
                found = self._find(collection, query, projection, sort, skip, limit)
                self._found[key] = found
            return found
        return self._find(collection, query, projection, sort, skip, limit)

    def _find(
        self,
        collection: str,
        query: Mapping[str, Any],
        projection: Mapping[str, Any] | None,
        sort: Mapping[str, int] | None,
        skip: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        if collection == "tickets":
            docs = self._find_tickets(query)
        elif collection == "queue_index":
            docs = self.match_entries(query)
        elif collection == "helpdesk_meta":
            # An app keeps the index true (so the page asks no catch-up of this database).
            docs = [{"_id": "queue_index.lease", "holder": "bench", "until": FAR_LEASE}]
            docs = [d for d in docs if matches(d, query)]
        elif collection == "users":
            docs = self._by_id(self.users, query)
        elif collection == "ticket_events":
            docs = [e for e in self.events if matches(e, query)]
        else:
            docs = []  # presence, orders, counters: nothing there
        if sort:
            docs = sort_docs(docs, sort)
        docs = docs[skip:]
        if limit:
            docs = docs[: abs(limit)]
        return [project(d, projection) for d in docs]

    def _by_id(self, table: Mapping[ObjectId, dict[str, Any]], query: Mapping[str, Any]) -> list:
        wanted = query.get("_id", MISSING)
        if isinstance(wanted, ObjectId):
            return [table[wanted]] if wanted in table else []
        if isinstance(wanted, Mapping) and set(wanted) == {"$in"}:
            return [table[i] for i in wanted["$in"] if i in table]
        return [d for d in table.values() if matches(d, query)]

    def _find_tickets(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "_id" in query:
            return self._by_id(self.tickets, query)
        return [self.tickets[r["_id"]] for r in self.match_rows(query)]


def warm(engine: Engine, agent: ObjectId, now: datetime) -> None:
    """Run what the app asks for at start-up once, as a server's indexes and cache would have
    it ready: the queue index, each standard view's filter on it, the agent's active ids, the
    feed's probe for the newest update."""
    from helpdesk_tui.domain.models import ACTIVE_STATUSES
    from helpdesk_tui.store.queries import index_filter, index_sort
    from helpdesk_tui.views import standard_views

    for view in standard_views(agent):
        where = _aware(index_filter(view.query, now))
        engine.find("queue_index", where, {"updatedAt": 1}, dict(index_sort(view.query)), 0, 200)
    active = {"assignedTo": agent, "status": {"$in": [s.value for s in ACTIVE_STATUSES]}}
    engine.find("tickets", active, {"_id": 1})
    engine.find(
        "tickets", {"updatedAt": {"$type": "date"}}, {"updatedAt": 1}, {"updatedAt": -1}, 0, 1
    )


# --- in process: duck-typed pymongo objects over an Engine ---------------------------------


class DbClock:
    """Time spent inside the scripted database (incl. the BSON round trip a driver does)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls: list[tuple[str, str, int]] = []

    def reset(self) -> None:
        self.seconds = 0.0
        self.calls = []


def _roundtrip(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the driver hands back: freshly decoded documents."""
    return [bson.decode(bson.encode(d), codec_options=CODEC) for d in docs]


class FakeCursor:
    def __init__(self, collection: FakeCollection, query: Any, projection: Any) -> None:
        self._c, self._query, self._projection = collection, query, projection
        self._sort: dict[str, int] = {}
        self._limit = 0
        self._skip = 0

    def hint(self, index: Any) -> FakeCursor:
        return self

    def sort(self, key: Any, direction: int = 1) -> FakeCursor:
        if isinstance(key, str):
            self._sort[key] = direction
        else:
            self._sort.update(dict(key))
        return self

    def limit(self, n: int) -> FakeCursor:
        self._limit = n
        return self

    def skip(self, n: int) -> FakeCursor:
        self._skip = n
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(
            self._c._timed(
                "find",
                lambda: self._c.engine.find(
                    self._c.name,
                    self._query,
                    self._projection,
                    self._sort,
                    self._skip,
                    self._limit,
                ),
            )
        )


class FakeCollection:
    def __init__(self, engine: Engine, name: str, clock: DbClock) -> None:
        self.engine, self.name, self.clock = engine, name, clock

    def _timed(self, op: str, call: Any) -> list[dict[str, Any]]:
        start = time.perf_counter()
        docs = _roundtrip(call())
        self.clock.seconds += time.perf_counter() - start
        self.clock.calls.append((self.name, op, len(docs)))
        return docs

    def find(self, query: Any = None, projection: Any = None, **kwargs: Any) -> FakeCursor:
        return FakeCursor(self, query, projection)

    def find_one(
        self, query: Any = None, projection: Any = None, sort: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        spec = dict(sort) if sort else None
        docs = self._timed(
            "find_one",
            lambda: self.engine.find(self.name, query, projection, spec, 0, 1),
        )
        return docs[0] if docs else None

    def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> Iterator[dict]:
        return iter(self._timed("aggregate", lambda: self.engine.aggregate(self.name, pipeline)))

    def count_documents(self, query: Any, **kwargs: Any) -> int:
        stages = [{"$match": query or {}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}]
        result = self._timed("count_documents", lambda: self.engine.aggregate(self.name, stages))
        return int(result[0]["n"]) if result else 0

    def find_one_and_update(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "find_one_and_update", 0))  # no lease for us

    def bulk_write(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "bulk_write", 0))

    def update_many(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "update_many", 0))

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "delete_many", 0))

    def insert_many(self, docs: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "insert_many", 0))

    def create_index(self, keys: Any, **kwargs: Any) -> str:
        return str(kwargs.get("name", "index"))

    def update_one(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "update_one", 0))

    def delete_one(self, *args: Any, **kwargs: Any) -> None:
        self.clock.calls.append((self.name, "delete_one", 0))

    def insert_one(self, doc: dict[str, Any]) -> None:
        self.clock.calls.append((self.name, "insert_one", 0))


class FakeDatabase:
    """Enough of ``pymongo.database.Database`` for TicketStore, PresenceStore and LiveFeed."""

    name = "helpdesk"

    def __init__(self, engine: Engine) -> None:
        from types import SimpleNamespace

        self.engine = engine
        # ``buildInfo`` of a MongoDB (so page queries name their index, as there).
        build = {"version": "7.0.0", "versionArray": [7, 0, 0, 0], "ok": 1.0}
        self.client = SimpleNamespace(admin=SimpleNamespace(command=lambda *a, **k: build))
        self.clock = DbClock()
        self._collections: dict[str, FakeCollection] = {}

    def __getitem__(self, name: str) -> FakeCollection:
        if name not in self._collections:
            self._collections[name] = FakeCollection(self.engine, name, self.clock)
        return self._collections[name]

    def command(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if name == "hello":  # a standalone: no change streams, so the feed polls
            return {"isWritablePrimary": True, "ok": 1.0}
        from pymongo.errors import OperationFailure

        raise OperationFailure(f"scripted database: no command {name}")


def fake_store(
    tickets: int, *, long_ticket_messages: int = 0, now: datetime = NOW
) -> tuple[Any, Engine, ObjectId]:
    """A TicketStore on an in-memory scripted database holding ``tickets`` in "My tickets"."""
    from helpdesk_tui.store.tickets import StoreSettings, TicketStore

    users, docs, agent = dataset(tickets, now=now, long_ticket_messages=long_ticket_messages)
    engine = Engine(users, docs)
    if long_ticket_messages:
        first = docs[0]
        for i, action in enumerate(["created", "assign", "status", "priority", "tags"] * 2):
            engine.events.append(
                {
                    "_id": ObjectId(),
                    "ticket": first["_id"],
                    "actor": agent,
                    "action": action,
                    "from": None if action != "status" else "open",
                    "to": {"status": "in_progress", "priority": "urgent", "tags": "vip"}.get(
                        action, str(agent)
                    ),
                    "at": first["createdAt"] + timedelta(hours=i),
                }
            )
    warm(engine, agent, now)
    store = TicketStore(FakeDatabase(engine), StoreSettings(), clock=lambda: now)  # type: ignore[arg-type]
    # The data set lives in a database, not in the app: keep it out of the garbage
    # collector's full collections, which would otherwise traverse it (100+ ms pauses).
    gc.collect()
    gc.freeze()
    return store, engine, agent


def build_app(store: Any, *, config: Any = None, email: str | None = None) -> Any:
    """A HelpdeskApp as ``tests/conftest.py:make_app`` builds it (drafts in a temp dir)."""
    import tempfile

    from helpdesk_tui.app import HelpdeskApp
    from helpdesk_tui.config import Config
    from helpdesk_tui.demo.seed import DEMO_AGENT_EMAIL
    from helpdesk_tui.domain.people import Identity
    from helpdesk_tui.drafts import Drafts

    config = config or Config()
    user = store.user_by_email(email or DEMO_AGENT_EMAIL)
    me = Identity.from_user(
        user, agent_roles=config.roles.agent, supervisor_roles=config.roles.supervisor
    )
    drafts = Drafts(Path(tempfile.mkdtemp(prefix="bench-drafts-")), me.id)
    return HelpdeskApp(store=store, config=config, me=me, demo=True, drafts=drafts)


# --- in process: when did the screen actually paint? --------------------------------------


class PaintProbe:
    """Wraps ``app._display`` (called with each compositor update, also when headless) and
    records when each paint finished -- wall clock and the UI thread's CPU clock -- with a
    snapshot of the state painted (``snapshot()``, called right after the paint)."""

    def __init__(self, app: Any, snapshot: Any = None) -> None:
        self.app = app
        self.snapshot = snapshot or (lambda: None)
        self.paints: list[tuple[float, float, Any]] = []
        self._waiters: list[tuple[float, Any, Any]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            at, cpu = time.perf_counter(), time.thread_time()
            state = self.snapshot()
            self.paints.append((at, cpu, state))
            for waiter in list(self._waiters):
                start, predicate, future = waiter
                if at >= start and (predicate is None or predicate(state)):
                    self._waiters.remove(waiter)
                    if not future.done():
                        future.set_result((at, cpu))

        app._display = display

    def first_after(self, start: float, predicate: Any = None) -> tuple[float, float] | None:
        for at, cpu, state in self.paints:
            if at >= start and (predicate is None or predicate(state)):
                return at, cpu
        return None

    async def wait(
        self, start: float, predicate: Any = None, timeout: float = 10.0
    ) -> tuple[float, float]:
        """(wall, cpu) of the first paint at or after ``start`` whose state matches."""
        import asyncio

        found = self.first_after(start, predicate)
        if found is not None:
            return found
        future: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()
        self._waiters.append((start, predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError("the expected paint never came") from None


def send_key(app: Any, key: str, character: str | None = None) -> tuple[float, float]:
    """Deliver a key as the terminal driver would (``Pilot.press`` without its idle waits,
    which sleep >= 40 ms). Returns (wall, cpu) just before sending."""
    from textual import events

    event = events.Key(
        key, character if character is not None else (key if len(key) == 1 else None)
    )
    event.set_sender(app)
    start = (time.perf_counter(), time.thread_time())
    app._driver.send_message(event)
    return start


def child_env(home: str) -> dict[str, str]:
    """The environment of an app under test: a clean home, no config, a 120x40 xterm."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HELPDESK_TUI", "XDG_", "TEXTUAL", "COLORTERM", "NO_COLOR"))
    }
    # No COLORTERM: ssh forwards TERM (and the locale), not COLORTERM, so the app sees a
    # 256-colour xterm as an agent on a jump host does.
    env.update(
        HOME=home,
        TERM="xterm-256color",
        LANG=os.environ.get("LANG") or "C.UTF-8",
        COLUMNS="120",
        LINES="40",
        PYTHONPATH=str(ROOT),
    )
    return env
