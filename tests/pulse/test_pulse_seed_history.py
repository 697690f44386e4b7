"""The demo's week of history: audit events consistent with each ticket, on a daily and weekly
rhythm, reproducible (issue 30). Pure: no server."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from conftest import NOW

from helpdesk_tui.demo import seed

DONE = {"resolved", "closed"}


def data() -> seed.DemoData:
    return seed.generate(NOW, tickets=300, customers=150, seed=7)


def test_history_spans_a_week_and_more() -> None:
    demo = data()
    created = [t["createdAt"] for t in demo.tickets]
    assert NOW - min(created) >= timedelta(days=7)
    assert max(created) <= NOW
    assert all(e["at"] <= NOW for e in demo.events)
    days = {(NOW - c).days for c in created}
    assert set(range(8)) <= days  # every one of the last 8 days has arrivals


def test_every_ticket_trail_agrees_with_the_ticket() -> None:
    demo = data()
    trails: dict[object, list[dict[str, object]]] = {}
    for event in demo.events:
        trails.setdefault(event["ticket"], []).append(event)
    for ticket in demo.tickets:
        trail = trails[ticket["_id"]]
        assert [e["at"] for e in trail] == sorted(e["at"] for e in trail)
        created = trail[0]
        assert (created["action"], created["at"]) == ("created", ticket["createdAt"])
        statuses = [e for e in trail if e["action"] == "status"]
        # Each change starts where the last one ended, from open, and ends at the status.
        previous = "open"
        for change in statuses:
            assert change["from"] == previous
            previous = change["to"]
        assert previous == ticket["status"], ticket["ticketNumber"]
        customer = ticket["user"]
        replies = [m for m in ticket["messages"] if m["sender"] != customer and not m["isInternal"]]
        first = [e for e in trail if e["action"] == "reply"]
        if replies:
            assert first[0]["at"] == replies[0]["createdAt"]
            assert first[0]["to"] == str(replies[0]["_id"])
        if ticket["status"] in DONE:
            resolved = [e for e in statuses if e["to"] == "resolved"]
            assert resolved and resolved[-1]["at"] >= ticket["createdAt"]
            assert ticket["resolvedAt"] <= NOW


def test_daily_and_weekly_rhythm() -> None:
    """Done tickets (the history) come in mostly in working hours and on weekdays."""
    demo = seed.generate(NOW, tickets=2000, customers=300, seed=7)
    done = [t["createdAt"] for t in demo.tickets if t["status"] in DONE]
    hours = Counter(c.hour for c in done)
    working = sum(hours[h] for h in range(8, 18)) / 10
    night = sum(hours[h] for h in (0, 1, 2, 3, 4, 5)) / 6
    assert working > 3 * night
    days = Counter(c.weekday() for c in done if NOW - c <= timedelta(days=7))
    weekday = sum(days[d] for d in range(5)) / 5
    weekend = (days[5] + days[6]) / 2
    assert weekday > 1.8 * weekend


def test_same_history_every_run() -> None:
    assert data().events == data().events
