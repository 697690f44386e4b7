"""The supervisor's pulse: the figures (plain dataclasses) and the pure arithmetic behind them.

The store (``store/pulse.py``) asks the server for hourly flows and grouped counts; what is
left is here: a backlog series from the current count and the flows since, a median, the
text bars the screen and the CLI draw. Definitions (the tests recount by the same ones):

* A ticket is **open** just before ``t`` if it was created before ``t`` and not resolved
  before ``t``; **waiting** by its audited status changes; **breaching** if a deadline passed
  unmet before ``t`` and it was not resolved by then (once breached, it stays breaching until
  resolved).
* Deadlines are ``createdAt`` + the priority's target in calendar time (an unknown priority
  counts as medium, as everywhere in the app); a first response counts when it came by its due
  time (met) or after it (breached); a clock still running past its due time is breached.
* Hours and days are UTC; "this week" is the last 7 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
WEEK_STEP = timedelta(hours=6)

# Time to first response, in minutes: the histogram's lower bounds (the last bucket is open).
HISTOGRAM_BOUNDS = (0, 15, 30, 60, 120, 240, 480, 1440)
HISTOGRAM_LABELS = ("<15m", "15-30m", "30m-1h", "1-2h", "2-4h", "4-8h", "8-24h", "24h+")

MET, BREACHED, PENDING = "█", "░", "·"


@dataclass(frozen=True)
class Backlog:
    """Counts at each of ``at`` (the last one is now)."""

    at: tuple[datetime, ...]
    open: tuple[int, ...]
    waiting: tuple[int, ...]
    breaching: tuple[int, ...]


@dataclass(frozen=True)
class Clock:
    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def settled(self) -> int:
        return self.met + self.breached

    @property
    def share(self) -> float | None:
        """The met share of the settled ones (None: nothing settled yet)."""
        return self.met / self.settled if self.settled else None


@dataclass(frozen=True)
class Attainment:
    """SLA attainment of the tickets created on one day, or of one priority's."""

    label: str
    first_response: Clock
    resolution: Clock


@dataclass(frozen=True)
class AgentPulse:
    agent: ObjectId
    name: str  # database text: shown through one_line/literal only
    open: int
    breaches: int
    first_responses: int
    median_first_response: timedelta | None


@dataclass(frozen=True)
class Pulse:
    now: datetime
    backlog_day: Backlog  # hourly, the last 24 hours
    backlog_week: Backlog  # every 6 hours, the last 7 days
    sla_by_day: tuple[Attainment, ...]  # the last 7 UTC days, oldest first (today last)
    sla_by_priority: tuple[Attainment, ...]  # tickets created in those 7 days
    arrivals_today: tuple[int, ...]  # per UTC hour of today (24; hours to come are 0)
    resolved_today: tuple[int, ...]
    arrivals_last_week: tuple[int, ...]  # per hour of the same weekday a week ago
    resolved_last_week: tuple[int, ...]
    agents: tuple[AgentPulse, ...]
    first_response_histogram: tuple[tuple[str, int], ...]

    def as_json(self) -> dict[str, Any]:
        """The stable schema of ``helpdesk-tui pulse --json`` (times ISO 8601, durations s)."""

        def backlog(b: Backlog) -> dict[str, Any]:
            return {
                "at": [t.isoformat() for t in b.at],
                "open": list(b.open),
                "waiting": list(b.waiting),
                "breaching": list(b.breaching),
            }

        def clock(c: Clock) -> dict[str, int]:
            return {"met": c.met, "breached": c.breached, "pending": c.pending}

        def attainment(rows: Sequence[Attainment], key: str) -> list[dict[str, Any]]:
            return [
                {
                    key: a.label,
                    "first_response": clock(a.first_response),
                    "resolution": clock(a.resolution),
                }
                for a in rows
            ]

        return {
            "schema": 1,
            "now": self.now.isoformat(),
            "backlog": {
                "last_24h": backlog(self.backlog_day),
                "last_7d": backlog(self.backlog_week),
            },
            "sla": {
                "by_day": attainment(self.sla_by_day, "day"),
                "by_priority": attainment(self.sla_by_priority, "priority"),
            },
            "hourly": {
                "arrivals_today": list(self.arrivals_today),
                "resolved_today": list(self.resolved_today),
                "arrivals_last_week": list(self.arrivals_last_week),
                "resolved_last_week": list(self.resolved_last_week),
            },
            "agents": [
                {
                    "id": str(a.agent),
                    "name": a.name,
                    "open": a.open,
                    "breaches": a.breaches,
                    "first_responses": a.first_responses,
                    "median_first_response_s": (
                        round(a.median_first_response.total_seconds())
                        if a.median_first_response is not None
                        else None
                    ),
                }
                for a in self.agents
            ],
            "first_response_histogram": [
                {"bucket": label, "count": n} for label, n in self.first_response_histogram
            ],
        }


@dataclass(frozen=True)
class Window:
    """The moments a pulse is computed for: ``start`` is the earliest hour any figure needs."""

    now: datetime

    @property
    def hour(self) -> datetime:
        return self.now.replace(minute=0, second=0, microsecond=0)

    @property
    def today(self) -> datetime:
        return self.now.replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def start(self) -> datetime:
        return min(self.today - WEEK, self.hour - WEEK)

    @property
    def week_ago(self) -> datetime:
        return self.now - WEEK

    @property
    def first_day(self) -> datetime:
        return self.today - 6 * DAY

    def day_samples(self) -> list[datetime]:
        return [self.hour - k * HOUR for k in range(23, -1, -1)] + [self.now]

    def week_samples(self) -> list[datetime]:
        steps = int(WEEK / WEEK_STEP)
        return [self.hour - k * WEEK_STEP for k in range(steps, -1, -1)] + [self.now]


def series(
    samples: Sequence[datetime],
    now: datetime,
    current: int,
    ins: Mapping[datetime, int],
    outs: Mapping[datetime, int],
) -> tuple[int, ...]:
    """A count just before each (hour-aligned) sample, walked back from ``current`` (now's):
    what came in at or after a moment was not there yet; what went out was still there.
    ``ins``/``outs``: counts per hour (the hour's start), up to now."""
    values = []
    for t in samples:
        if t >= now:
            values.append(current)
            continue
        came = sum(n for hour, n in ins.items() if hour >= t)
        went = sum(n for hour, n in outs.items() if hour >= t)
        values.append(current - came + went)
    return tuple(values)


def per_hour(counts: Mapping[datetime, int], day: datetime) -> tuple[int, ...]:
    return tuple(counts.get(day + h * HOUR, 0) for h in range(24))


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}"
    return f"{hours // 24}d{hours % 24:02d}h"


def bar(parts: Sequence[tuple[int, str]], scale: int, width: int) -> str:
    """A text bar of ``width`` cells at most for counts out of ``scale``: each part its own
    symbol, so the meaning survives without colour. A non-zero part gets at least one cell."""
    if width <= 0 or scale <= 0:
        return ""
    shown = [(count, symbol) for count, symbol in parts if count > 0]
    sizes = [max(1, round(count * width / scale)) for count, _ in shown]
    while sum(sizes) > width and max(sizes, default=0) > 1:
        sizes[sizes.index(max(sizes))] -= 1  # the largest part gives way: every part stays
    return "".join(symbol * size for (_, symbol), size in zip(shown, sizes, strict=True))[:width]


def share_text(clock: Clock) -> str:
    share = clock.share
    return "   —" if share is None else f"{round(share * 100):>3}%"
