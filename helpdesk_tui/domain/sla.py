"""SLA clocks: due times, states and countdowns. Pure functions of (ticket, now, policy)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk_tui.domain.models import Priority, Status, Ticket, utc


class SlaState(StrEnum):
    MET = "met"
    BREACHED = "breached"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"
    PAUSED = "paused"


class SlaTarget(BaseModel):
    """Targets for one priority, in minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


DEFAULT_TARGETS: dict[Priority, SlaTarget] = {
    Priority.URGENT: SlaTarget(first_response_minutes=60, resolution_minutes=4 * 60),
    Priority.HIGH: SlaTarget(first_response_minutes=4 * 60, resolution_minutes=24 * 60),
    Priority.MEDIUM: SlaTarget(first_response_minutes=8 * 60, resolution_minutes=48 * 60),
    Priority.LOW: SlaTarget(first_response_minutes=24 * 60, resolution_minutes=72 * 60),
}


class BusinessHours(BaseModel):
    """Only these hours count towards SLA targets when a calendar is configured.

    ``end <= start`` is a shift that ends on the next day (``start == end``: the whole day).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    # ISO weekdays: 1 = Monday .. 7 = Sunday.
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    start: time = time(9, 0)
    end: time = time(17, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(day < 1 or day > 7 for day in value):
            raise ValueError("days must be ISO weekdays 1 (Monday) .. 7 (Sunday), at least one")
        return tuple(sorted(set(value)))


class SlaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[Priority, SlaTarget] = Field(default_factory=lambda: dict(DEFAULT_TARGETS))
    # A running clock with less than this share of its target left is "at risk".
    at_risk_share: float = Field(default=0.25, gt=0, lt=1)
    # Zendesk-style: the resolution clock stops while the ticket waits on the customer (and
    # runs again once the customer has answered: the last public message is theirs).
    pause_when_waiting: bool = False
    business_hours: BusinessHours | None = None

    def target(self, priority: Priority) -> SlaTarget:
        return self.targets.get(priority, DEFAULT_TARGETS[priority])


ZERO = timedelta(0)
_RUNNING = (SlaState.BREACHED, SlaState.AT_RISK, SlaState.ON_TRACK)


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class ClockStatus:
    """One SLA clock of one ticket at one instant."""

    kind: ClockKind
    state: SlaState
    due: datetime | None  # None when paused (or when the ticket has no createdAt)
    met_at: datetime | None  # when the clock was satisfied, if it was (and we know when)
    # due - now while running (negative once breached; business time with a calendar).
    remaining: timedelta | None

    @property
    def label(self) -> str:
        return self.kind.value.replace("_", " ")

    @property
    def running(self) -> bool:
        """Still counting: neither met nor paused."""
        return self.state in _RUNNING and self.met_at is None


@dataclass(frozen=True)
class SlaStatus:
    """Both clocks of a ticket, the one that matters next and the colour of its queue row."""

    first_response: ClockStatus
    resolution: ClockStatus
    next: ClockStatus | None  # the running clock due first; None if none runs
    row_state: SlaState  # MET means "done": ticket resolved/closed, or nothing runs

    @property
    def countdown(self) -> str:
        if self.next is not None:
            if self.next.remaining is None:
                return "unknown"  # no createdAt: nothing to count from
            text = countdown(self.next.remaining)
            # No business time passes overnight after a breach; it is still overdue.
            if self.next.state is SlaState.BREACHED and not text.startswith("-"):
                text = "-" + text
            return text
        if self.row_state is SlaState.PAUSED:
            return "paused"
        if self.resolution.state is not SlaState.PAUSED and not self.resolution.running:
            return "done"
        return "met"


# --- business hours ------------------------------------------------------------------------


class _Calendar:
    """The working windows of one ``BusinessHours`` as UTC intervals, cached per local day."""

    def __init__(self, hours: BusinessHours) -> None:
        self.zone = ZoneInfo(hours.timezone)
        self.days = frozenset(hours.days)
        self.start = hours.start.replace(tzinfo=None)
        self.end = hours.end.replace(tzinfo=None)
        self.overnight = self.end <= self.start
        self._windows: dict[int, tuple[datetime, datetime] | None] = {}

    def window(self, ordinal: int) -> tuple[datetime, datetime] | None:
        if ordinal in self._windows:
            return self._windows[ordinal]
        day = date.fromordinal(ordinal)
        window = None
        if day.isoweekday() in self.days:
            # Wall-clock times through zoneinfo: a DST change shifts the window in UTC.
            opens = datetime.combine(day, self.start, self.zone).astimezone(UTC)
            last = day + timedelta(days=1) if self.overnight else day
            closes = datetime.combine(last, self.end, self.zone).astimezone(UTC)
            window = (opens, closes) if closes > opens else None
        if len(self._windows) > 100_000:
            self._windows.clear()
        self._windows[ordinal] = window
        return window

    def walk(self, moment: datetime, step: int) -> Iterator[tuple[datetime, datetime]]:
        """Forward (step 1): windows closing after ``moment``, earliest first, from the day
        before (a night shift opens the day before). Back (step -1): opening before, latest first.
        """
        ordinal = moment.astimezone(self.zone).toordinal() - (step > 0)
        while True:
            window = self.window(ordinal)
            if window is not None and (window[1] > moment if step > 0 else window[0] < moment):
                yield window
            ordinal += step


@lru_cache(maxsize=16)
def _calendar(hours: BusinessHours) -> _Calendar:
    return _Calendar(hours)


def due_at(start: datetime, target: timedelta, hours: BusinessHours | None) -> datetime:
    """When ``target`` of (business) time has passed since ``start``; negative counts back."""
    start = utc(start)
    if hours is None:
        return start + target
    calendar = _calendar(hours)
    left = abs(target)
    if target < ZERO:
        for opens, closes in calendar.walk(start, -1):
            end = min(closes, start)
            if left <= end - opens:
                return end - left
            left -= end - opens
    for opens, closes in calendar.walk(start, 1):
        begin = max(opens, start)
        # `<=`: a target used up exactly at closing time is due then, not at the next opening.
        if left <= closes - begin:
            return begin + left
        left -= closes - begin
    raise AssertionError("unreachable: a calendar has working days every week")


def elapsed(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """(Business) time from ``start`` to ``end``; negative if ``end`` is before ``start``."""
    start, end = utc(start), utc(end)
    if hours is None:
        return end - start
    if end < start:
        return -elapsed(end, start, hours)
    total = ZERO
    for opens, closes in _calendar(hours).walk(start, 1):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return total


# --- evaluation ----------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


def evaluate(ticket: Ticket, now: datetime, policy: SlaPolicy) -> SlaStatus:
    """Both clocks of ``ticket`` at ``now``. Never raises on odd data."""
    now, created, hours = utc(now), _aware(ticket.created_at), policy.business_hours
    done = ticket.status.is_done
    resolved = None
    if done:  # only a done ticket's resolvedAt counts: a reopened one may keep a stale one
        times = (ticket.resolved_at, ticket.closed_at, ticket.updated_at)
        resolved = next(filter(None, map(_aware, times)), None)

    def clock(kind: ClockKind, minutes: int, met: bool, met_at: datetime | None) -> ClockStatus:
        """One clock; ``met`` with ``met_at`` None means met at an unknown time."""
        target = timedelta(minutes=minutes)
        try:
            due = None if created is None else due_at(created, target, hours)
            remaining = None if due is None or met else elapsed(now, due, hours)
        except (OverflowError, ValueError):  # dates at the edge of the calendar
            due = remaining = None
        if met:
            late = due is not None and met_at is not None and met_at > due
            return ClockStatus(kind, SlaState.BREACHED if late else SlaState.MET, due, met_at, None)
        if due is None or remaining is None:  # malformed document: nothing to count from
            return ClockStatus(kind, SlaState.ON_TRACK, None, None, None)
        state = SlaState.ON_TRACK
        if now >= due:
            state = SlaState.BREACHED
        elif remaining < target * policy.at_risk_share:
            state = SlaState.AT_RISK
        return ClockStatus(kind, state, due, None, remaining)

    target = policy.target(ticket.priority)
    replied = _aware(ticket.first_response_at)
    # Done without a reply: the first response clock stops when the ticket was resolved.
    first = clock(
        ClockKind.FIRST_RESPONSE,
        target.first_response_minutes,
        bool(replied) or done,
        replied or resolved,
    )
    # A customer's reply wakes a waiting ticket: the clock runs again (``Ticket.woken``).
    if policy.pause_when_waiting and ticket.status is Status.WAITING and not ticket.woken:
        resolution = ClockStatus(ClockKind.RESOLUTION, SlaState.PAUSED, None, None, None)
    else:
        resolution = clock(ClockKind.RESOLUTION, target.resolution_minutes, done, resolved)
    running = [c for c in (first, resolution) if c.running]
    row = SlaState.MET
    if running and not done:
        row = min((c.state for c in running), key=_RUNNING.index)
    elif resolution.state is SlaState.PAUSED:
        row = SlaState.PAUSED
    return SlaStatus(first, resolution, min(running, key=_due_order, default=None), row)


def _due_order(clock: ClockStatus) -> float:
    return clock.due.timestamp() if clock.due is not None else float("inf")


def countdown(delta: timedelta) -> str:
    """Short remaining-time text: "45m", "2h 05m", "3d 4h"; a leading "-" once overdue."""
    sign = "-" if delta < ZERO else ""
    minutes = abs(delta) // timedelta(minutes=1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m"


def sort_key(status: SlaStatus) -> tuple[int, float]:
    """Most urgent first: running clocks by next deadline, then paused, then done.

    Like the store's pipeline (rank, due): a breached clock is always due before a running one,
    so breached rows lead; between at risk and on track the earlier deadline wins.
    """
    if status.next is not None:
        return (0, _due_order(status.next))
    return (1, 0.0) if status.row_state is SlaState.PAUSED else (2, 0.0)
