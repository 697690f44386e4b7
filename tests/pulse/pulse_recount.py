"""The pulse recounted in plain Python from the tickets and the audit trail as stored.

Independent of the store's pipelines and of the queue index: it reads every ticket document
and every status event, works out each ticket's first response from its messages, and counts
each figure by its definition (domain/pulse.py) at each moment, one ticket at a time.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_tui.domain.models import Priority
from helpdesk_tui.domain.pulse import HISTOGRAM_BOUNDS, HISTOGRAM_LABELS, Window
from helpdesk_tui.domain.sla import SlaPolicy

DONE = {"resolved", "closed"}


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def facts(doc: dict[str, Any], policy: SlaPolicy) -> dict[str, Any] | None:
    created = _utc(doc.get("createdAt"))
    if created is None:
        return None
    customer = doc.get("user")
    firsts = [
        _utc(m.get("createdAt"))
        for m in doc.get("messages") or []
        if isinstance(m, dict) and not m.get("isInternal") and m.get("sender") != customer
    ]
    firsts = [f for f in firsts if f is not None]
    fr = min(firsts) if firsts else None
    resolved = _utc(doc.get("resolvedAt")) if doc.get("status") in DONE else None
    try:
        priority = Priority(doc.get("priority"))
    except ValueError:
        priority = Priority.MEDIUM
    target = policy.target(priority)
    fr_due = created + timedelta(minutes=target.first_response_minutes)
    res_due = created + timedelta(minutes=target.resolution_minutes)
    fr_met = fr is not None and fr <= fr_due
    breach_at = res_due if fr_met else fr_due
    return {
        "created": created,
        "resolved": resolved,
        "fr": fr,
        "priority": doc.get("priority") if doc.get("priority") in set(Priority) else "other",
        "assignee": doc.get("assignedTo"),
        "status": doc.get("status"),
        "fr_due": fr_due,
        "res_due": res_due,
        "fr_met": fr_met,
        "breach_at": breach_at,
        "breached": resolved is None or breach_at < resolved,
        "id": doc["_id"],
    }


def recount(db: Any, now: datetime, policy: SlaPolicy, names: dict[Any, str]) -> dict[str, Any]:
    """The pulse's JSON, counted ticket by ticket."""
    w = Window(now)
    tickets = [f for f in (facts(d, policy) for d in db.tickets.find()) if f is not None]
    timelines: dict[Any, list[tuple[datetime, Any, str]]] = {}
    for e in db.ticket_events.find({"action": "status"}):
        timelines.setdefault(e["ticket"], []).append((_utc(e["at"]), e["_id"], e["to"]))
    for events in timelines.values():
        events.sort(key=lambda x: (x[0], x[1]))

    def is_open(t: dict[str, Any], at: datetime, final: bool) -> bool:
        if final:
            return t["resolved"] is None
        return t["created"] < at and (t["resolved"] is None or t["resolved"] >= at)

    def is_waiting(t: dict[str, Any], at: datetime, final: bool) -> bool:
        if final:
            return t["status"] == "waiting"
        state = "open"
        for when, _, to in timelines.get(t["id"], []):
            if when < at:
                state = to
        return state == "waiting" and t["created"] < at

    def is_breaching(t: dict[str, Any], at: datetime, final: bool) -> bool:
        if not t["breached"]:
            return False
        if final:
            return t["resolved"] is None and t["breach_at"] <= at
        return t["breach_at"] < at and (t["resolved"] is None or t["resolved"] >= at)

    def backlog(samples: list[datetime]) -> dict[str, Any]:
        out: dict[str, Any] = {"at": [s.isoformat() for s in samples]}
        for name, test in (("open", is_open), ("waiting", is_waiting), ("breaching", is_breaching)):
            out[name] = [
                sum(test(t, s, i == len(samples) - 1) for t in tickets)
                for i, s in enumerate(samples)
            ]
        return out

    def clocks(rows: list[dict[str, Any]]) -> dict[str, Any]:
        fr_met = sum(1 for t in rows if t["fr"] is not None and t["fr"] <= t["fr_due"])
        fr_breached = sum(
            1
            for t in rows
            if (t["fr"] is not None and t["fr"] > t["fr_due"])
            or (t["fr"] is None and t["fr_due"] <= now)
        )
        res_met = sum(
            1 for t in rows if t["resolved"] is not None and t["resolved"] <= t["res_due"]
        )
        res_breached = sum(
            1
            for t in rows
            if (t["resolved"] is not None and t["resolved"] > t["res_due"])
            or (t["resolved"] is None and t["res_due"] <= now)
        )
        n = len(rows)
        return {
            "first_response": {
                "met": fr_met,
                "breached": fr_breached,
                "pending": n - fr_met - fr_breached,
            },
            "resolution": {
                "met": res_met,
                "breached": res_breached,
                "pending": n - res_met - res_breached,
            },
        }

    recent = [t for t in tickets if w.first_day <= t["created"] <= now]
    by_day = []
    for k in range(7):
        day = w.first_day + timedelta(days=k)
        rows = [t for t in recent if day <= t["created"] < day + timedelta(days=1)]
        by_day.append({"day": day.date().isoformat(), **clocks(rows)})
    priorities = [p.value for p in Priority] + (
        ["other"] if any(t["priority"] == "other" for t in recent) else []
    )
    by_priority = [
        {"priority": p, **clocks([t for t in recent if t["priority"] == p])} for p in priorities
    ]

    def hourly(field: str, day: datetime) -> list[int]:
        return [
            sum(
                1
                for t in tickets
                if t[field] is not None
                and day + timedelta(hours=h) <= t[field] < day + timedelta(hours=h + 1)
                and t[field] <= now
            )
            for h in range(24)
        ]

    last_week = w.today - timedelta(days=7)
    agents = []
    # The agents the figures can name: those with a ticket open, or resolved in the window.
    touched = [t for t in tickets if t["resolved"] is None or t["resolved"] >= w.start]
    for agent in {t["assignee"] for t in touched if t["assignee"] is not None}:
        mine = [t for t in tickets if t["assignee"] == agent]
        durations = [
            (t["fr"] - t["created"]).total_seconds()
            for t in mine
            if t["fr"] is not None and w.week_ago <= t["fr"] <= now
        ]
        agents.append(
            {
                "id": str(agent),
                "name": names.get(agent, str(agent)),
                "open": sum(1 for t in mine if t["resolved"] is None),
                "breaches": sum(
                    1 for t in mine if t["breached"] and w.week_ago <= t["breach_at"] <= now
                ),
                "first_responses": len(durations),
                "median_first_response_s": (
                    round(statistics.median(durations)) if durations else None
                ),
            }
        )
    agents.sort(key=lambda a: (-a["open"], -a["breaches"], a["name"], a["id"]))
    minutes = [
        (t["fr"] - t["created"]).total_seconds() / 60
        for t in tickets
        if t["fr"] is not None and w.week_ago <= t["fr"] <= now and t["fr"] >= t["created"]
    ]
    bounds = [*HISTOGRAM_BOUNDS, float("inf")]
    histogram = [
        {"bucket": label, "count": sum(1 for m in minutes if low <= m < high)}
        for label, low, high in zip(HISTOGRAM_LABELS, bounds, bounds[1:], strict=False)
    ]
    return {
        "schema": 1,
        "now": now.isoformat(),
        "backlog": {"last_24h": backlog(w.day_samples()), "last_7d": backlog(w.week_samples())},
        "sla": {"by_day": by_day, "by_priority": by_priority},
        "hourly": {
            "arrivals_today": hourly("created", w.today),
            "resolved_today": hourly("resolved", w.today),
            "arrivals_last_week": hourly("created", last_week),
            "resolved_last_week": hourly("resolved", last_week),
        },
        "agents": agents,
        "first_response_histogram": histogram,
    }
