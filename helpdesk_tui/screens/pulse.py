"""``P``: the team's pulse for supervisors, as sparklines and text bars (issue 30).

Charts: Textual's own ``Sparkline`` for the series (no new dependency: textual-plotext would
add plotext for a few lines of blocks, and its plots need more rows than 80x24 leaves) and bars
drawn here from block characters. Every chart carries its meaning in symbols and numbers, not
in colour alone (NO_COLOR): ``█`` met, ``░`` breached, ``·`` pending, each row labelled; the
sparklines are shapes with their first, last and peak values written beside them. Widths follow
the terminal: a chart shrinks, a label never wraps. Agent names are database text: they go
through ``one_line`` and plain ``Text`` only.

Live: the app's feed (``TicketsChanged``) tells the store which tickets changed, and the
clock's tick asks again once the shown figures are a minute old; the store then re-reads only
what changed (store/pulse.py). The figures are updated in place (no widget is rebuilt, so
nothing flickers), and the line on top says when they were computed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Sparkline, Static

from helpdesk_tui.domain.pulse import (
    BREACHED,
    MET,
    PENDING,
    Attainment,
    Clock,
    Pulse,
    bar,
    duration_text,
    share_text,
)
from helpdesk_tui.domain.text import one_line
from helpdesk_tui.messages import ClockTick, TicketsChanged
from helpdesk_tui.screens.base import HelpdeskScreen
from helpdesk_tui.store.pulse import PulseStore, pulses_of
from helpdesk_tui.workers import WorkFailed

LABEL = 12  # the label column of a sparkline row
VALUE = 22  # the figures after it
SERIES = (
    ("day-open", "Open"),
    ("day-waiting", "Waiting"),
    ("day-breaching", "✖ Breaching"),
    ("week-open", "Open"),
    ("week-waiting", "Waiting"),
    ("week-breaching", "✖ Breaching"),
    ("in-today", "In today"),
    ("in-last", "In last wk"),
    ("out-today", "Out today"),
    ("out-last", "Out last wk"),
)


def spark_row(key: str, label: str) -> Horizontal:
    return Horizontal(
        Static(Text(label), classes="pulse-label"),
        Sparkline([], id=f"spark-{key}", classes="pulse-spark"),
        Static(id=f"value-{key}", classes="pulse-value"),
        classes="pulse-row",
    )


def trend(values: tuple[int, ...]) -> str:
    if not values:
        return "—"
    return f"{values[0]}→{values[-1]} max {max(values)}"


def clock_part(name: str, clock: Clock, width: int) -> str:
    """``FR  ████░░··  75%   12/16``: a fixed width (``width`` + 20) whatever the counts."""
    total = clock.met + clock.breached + clock.pending
    parts = [(clock.met, MET), (clock.breached, BREACHED), (clock.pending, PENDING)]
    drawn = bar(parts, total, width)
    counts = f"{clock.met}/{clock.settled}"
    return f"{name:<3} {drawn:<{width}} {share_text(clock)} {counts:>9}"


def attainment_lines(rows: tuple[Attainment, ...], label_width: int, width: int) -> list[str]:
    """One line per row with both clocks side by side when bars of 8 cells fit, else a line
    per clock; never wider than ``width``."""
    side_by_side = (width - label_width - 2 - 2 * 20) // 2
    lines = []
    for row in rows:
        label = one_line(row.label, label_width).ljust(label_width)
        if side_by_side >= 8:
            first = clock_part("FR", row.first_response, side_by_side)
            second = clock_part("Res", row.resolution, side_by_side)
            lines.append(f"{label} {first} {second}")
        else:
            small = max(1, width - label_width - 1 - 20)
            lines.append(f"{label} {clock_part('FR', row.first_response, small)}")
            lines.append(f"{' ' * label_width} {clock_part('Res', row.resolution, small)}")
    return lines


def day_label(iso: str) -> str:
    from datetime import date

    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return day.strftime("%a %d")


def render_sla(pulse: Pulse, width: int) -> Text:
    text = Text()
    text.append("SLA attainment", style="bold")
    text.append(
        f"  (tickets created that day)  {MET} met  {BREACHED} breached  {PENDING} running\n"
    )
    days = tuple(
        Attainment(day_label(a.label), a.first_response, a.resolution) for a in pulse.sla_by_day
    )
    text.append("\n".join(attainment_lines(days, 6, width)) + "\n")
    text.append("By priority, last 7 days\n", style="bold")
    text.append("\n".join(attainment_lines(pulse.sla_by_priority, 6, width)))
    return text


def render_agents(pulse: Pulse, width: int) -> Text:
    text = Text()
    text.append("Agents", style="bold")
    text.append(f"  open load {MET}, ✖ breaches this week, median first response this week\n")
    name_width = 16 if width >= 60 else 10
    bar_width = max(4, width - name_width - 30)
    scale = max((a.open for a in pulse.agents), default=0)
    if not pulse.agents:
        text.append("no assigned tickets")
    for agent in pulse.agents:
        name = one_line(agent.name, name_width).ljust(name_width)
        drawn = bar([(agent.open, MET)], scale, bar_width)
        text.append(f"{name} {drawn:<{bar_width}} {agent.open:>4} open ")
        text.append(f"✖{agent.breaches:>3}", style="bold red" if agent.breaches else "")
        text.append(f" FR {duration_text(agent.median_first_response):>6}\n")
    return text


def render_histogram(pulse: Pulse, width: int) -> Text:
    text = Text()
    text.append("Time to first response", style="bold")
    text.append("  (first responses of the last 7 days)\n")
    counts = pulse.first_response_histogram
    scale = max((n for _, n in counts), default=0)
    bar_width = max(4, width - 16)
    for label, n in counts:
        text.append(f"{label:>7} {bar([(n, '▇')], scale, bar_width):<{bar_width}} {n:>4}\n")
    return text


class PulseLoaded(Message):
    """The store's answer: the pulse as of ``pulse.now`` (new, or the minute's cached one)."""

    def __init__(self, pulse: Pulse) -> None:
        super().__init__()
        self.pulse = pulse


class PulseScreen(HelpdeskScreen):
    """The team's day as charts: backlog, SLA attainment, flows, agents, response times."""

    CSS_PATH = Path(__file__).resolve().parent.parent / "styles" / "pulse.tcss"

    BINDINGS = [
        Binding("r", "refresh", "Refresh", priority=True, id="refresh_pulse"),
        Binding("j", "scroll(1)", "Down", show=False, priority=True, id="scroll_down"),
        Binding("k", "scroll(-1)", "Up", show=False, priority=True, id="scroll_up"),
        Binding("question_mark", "help", "Help", priority=True, id="help"),
        Binding("q,escape", "close", "Back", priority=True, id="close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pulse: Pulse | None = None
        self.reading = False  # a read is under way: the tick and the feed do not ask again

    @property
    def pulses(self) -> PulseStore:
        return pulses_of(self.helpdesk.store)

    def compose(self) -> ComposeResult:
        yield Static(Text("Pulse", style="bold"), id="top-bar")
        with VerticalScroll(id="pulse-body"):
            yield Static(id="pulse-info")
            yield Static(Text("Backlog, last 24 h (hourly)", style="bold"), classes="pulse-title")
            for key, label in SERIES[:3]:
                yield spark_row(key, label)
            yield Static(
                Text("Backlog, last 7 days (every 6 h)", style="bold"), classes="pulse-title"
            )
            for key, label in SERIES[3:6]:
                yield spark_row(key, label)
            yield Static(id="pulse-flow-title", classes="pulse-title")
            for key, label in SERIES[6:]:
                yield spark_row(key, label)
            yield Static(id="pulse-sla", classes="pulse-block")
            yield Static(id="pulse-agents", classes="pulse-block")
            yield Static(id="pulse-histogram", classes="pulse-block")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pulse-info", Static).update(Text("Reading the pulse…", style="dim"))
        self.set_focus(self.query_one("#pulse-body"))
        self.load()

    def load(self) -> None:
        self.reading = True
        self._read_pulse(self.pulses)

    def _stale(self, now: datetime) -> bool:
        """The shown figures are a minute old (or none are shown yet)."""
        return self.pulse is None or self.pulses.fresh(now) is None

    def _refresh_if_stale(self, now: datetime) -> None:
        if not self.reading and self.app.screen is self and self._stale(now):
            self.load()

    @work(thread=True, exit_on_error=False, group="pulse", exclusive=True)
    def _read_pulse(self, pulses: PulseStore) -> None:
        self.post_message(PulseLoaded(pulses.pulse()))

    @on(PulseLoaded)
    def _loaded(self, message: PulseLoaded) -> None:
        self.reading = False
        shown = self.pulse
        if shown is not None and (message.pulse is shown or message.pulse.now < shown.now):
            return  # the same figures (the minute's cache), or older ones: nothing to redraw
        self.pulse = message.pulse
        self._show()

    @on(WorkFailed)
    def _not_read(self, message: WorkFailed) -> None:
        self.reading = False  # report_error said why; the next tick or key tries again
        if self.pulse is None:
            self.query_one("#pulse-info", Static).update(
                Text(f"The pulse could not be read: {self.key_for('refresh', 'r')} tries again.")
            )

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        pulse = self.pulse
        if pulse is None:
            return
        # The body's padding (2) and its scrollbar (2) take four columns.
        width = max(20, self.app.size.width - 4)
        self.query_one("#pulse-info", Static).update(
            Text(
                f"As of {pulse.now:%a %d %b %H:%M:%S} UTC · live, at most each minute · "
                f"{self.key_for('refresh', 'r')} re-reads",
                style="dim",
            )
        )
        series = {
            "day-open": pulse.backlog_day.open,
            "day-waiting": pulse.backlog_day.waiting,
            "day-breaching": pulse.backlog_day.breaching,
            "week-open": pulse.backlog_week.open,
            "week-waiting": pulse.backlog_week.waiting,
            "week-breaching": pulse.backlog_week.breaching,
        }
        for key, values in series.items():
            self._spark(key, values, trend(values))
        last_week = pulse.now - timedelta(days=7)
        self.query_one("#pulse-flow-title", Static).update(
            Text(f"Per hour today vs {last_week:%a %d} (in: arrivals, out: resolved)", style="bold")
        )
        hour = pulse.now.hour
        flows = {
            "in-today": pulse.arrivals_today[: hour + 1],
            "in-last": pulse.arrivals_last_week,
            "out-today": pulse.resolved_today[: hour + 1],
            "out-last": pulse.resolved_last_week,
        }
        for key, values in flows.items():
            self._spark(key, values, f"{sum(values)} · peak {max(values, default=0)}/h")
        self.query_one("#pulse-sla", Static).update(render_sla(pulse, width))
        self.query_one("#pulse-agents", Static).update(render_agents(pulse, width))
        self.query_one("#pulse-histogram", Static).update(render_histogram(pulse, width))

    def _spark(self, key: str, values: tuple[int, ...], figures: str) -> None:
        self.query_one(f"#spark-{key}", Sparkline).data = list(values)
        self.query_one(f"#value-{key}", Static).update(Text(one_line(figures, VALUE)))

    def on_tickets_changed(self, changed: TicketsChanged) -> None:
        # Every change is noted (even under another screen); the figures are read again once
        # the shown ones are a minute old: now, or at the tick that makes them so.
        self.pulses.changed(changed.ids, reload=changed.reload)
        self._refresh_if_stale(self.helpdesk.store.now())

    def on_clock_tick(self, message: ClockTick) -> None:
        self._refresh_if_stale(message.now)

    def on_screen_resume(self) -> None:
        self._refresh_if_stale(self.helpdesk.store.now())

    def action_refresh(self) -> None:
        if not self.reading:
            self.load()

    def action_scroll(self, lines: int) -> None:
        """``j``/``k``: the charts move as the conversation does on a ticket."""
        self.query_one("#pulse-body", VerticalScroll).scroll_relative(y=lines * 3, animate=False)

    def action_help(self) -> None:
        self.helpdesk.show_help(self)

    def action_close(self) -> None:
        self.dismiss()
