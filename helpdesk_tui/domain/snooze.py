"""Snooze times: the presets (1 h, tomorrow 9:00, next Monday 9:00) and a typed time, in the
agent's time zone. Pure: the caller passes the clock's ``now``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk_tui.domain.errors import InvalidRequest

MORNING = time(9, 0)
TYPED_HELP = "14:30 · tomorrow 8:00 · +3h · +2d · 2030-12-01 09:00"
_RELATIVE = re.compile(r"^\+\s*(\d{1,4})\s*([mhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or the machine's local zone when ``name`` is empty."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidRequest(f"unknown time zone {name!r}") from error


def _at(day: datetime, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day.date(), moment, tzinfo=tz).astimezone(UTC)


def presets(now: datetime, tz: tzinfo) -> list[tuple[str, datetime]]:
    """(label, until) for the preset choices, in the agent's zone."""
    local = now.astimezone(tz)
    tomorrow = local + timedelta(days=1)
    monday = local + timedelta(days=7 - local.weekday())
    return [
        ("In 1 hour", now + timedelta(hours=1)),
        (f"Tomorrow {MORNING:%H:%M}", _at(tomorrow, MORNING, tz)),
        (f"Next Monday {MORNING:%H:%M}", _at(monday, MORNING, tz)),
    ]


def parse_until(text: str, now: datetime, tz: tzinfo) -> datetime:
    """A typed time (see ``TYPED_HELP``) as UTC; refused when empty, unreadable or past."""
    value = " ".join(text.strip().lower().split())
    local = now.astimezone(tz)
    until: datetime | None = None
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        until = now + timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    else:
        day = local
        if value.startswith("tomorrow"):
            day, value = local + timedelta(days=1), value.removeprefix("tomorrow").strip()
        clock = _CLOCK.match(value)
        if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:
            until = _at(day, time(int(clock.group(1)), int(clock.group(2))), tz)
        else:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None:
                until = (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
    if until is None:
        raise InvalidRequest(f"not a time: {text.strip()!r}; try {TYPED_HELP}")
    if until <= now:
        raise InvalidRequest(f"{until.astimezone(tz):%a %d %b %H:%M} has passed")
    return until


def shown(until: datetime, tz: tzinfo) -> str:
    """``Tue 27 Nov 09:00``: the wake-up time in the agent's zone."""
    return f"{until.astimezone(tz):%a %d %b %H:%M}"
