"""How an SLA state looks: a symbol and a word as well as a colour (NO_COLOR-proof)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from helpdesk_tui.domain.sla import ClockStatus, SlaState, SlaStatus, countdown


@dataclass(frozen=True)
class Look:
    symbol: str
    word: str
    style: str  # ANSI colour names only: they survive 16-colour terminals


LOOKS: dict[SlaState, Look] = {
    SlaState.BREACHED: Look("✖", "breached", "bold red"),
    SlaState.AT_RISK: Look("▲", "at risk", "bold yellow"),
    SlaState.ON_TRACK: Look("●", "on track", "green"),
    SlaState.PAUSED: Look("‖", "paused", "blue"),
    SlaState.MET: Look("✓", "done", "bright_black"),
}
# What the rest of a row looks like in each state: quiet unless it needs attention.
ROW_STYLES: dict[SlaState, str] = {
    SlaState.BREACHED: "red",
    SlaState.AT_RISK: "yellow",
    SlaState.ON_TRACK: "",
    SlaState.PAUSED: "blue",
    SlaState.MET: "bright_black",
}


def badge(status: SlaStatus) -> Text:
    """The queue's SLA cell: ``✖ -35m``, ``▲ 1h 05m``, ``● 5h 12m``, ``‖ paused``, ``✓ done``."""
    look = LOOKS[status.row_state]
    if status.row_state is SlaState.MET:
        return Text(f"{look.symbol} done", style=look.style)
    if status.next is None:
        return Text(f"{look.symbol} {look.word}", style=look.style)
    return Text(f"{look.symbol} {status.countdown}", style=look.style)


def clock_text(clock: ClockStatus) -> Text:
    """One clock in the ticket header: ``first response ✓ met`` / ``resolution ▲ 1h 05m``."""
    look = LOOKS[clock.state]
    text = Text(f"{clock.label} ", style="bold")
    word = "met" if clock.state is SlaState.MET else look.word
    if clock.state in (SlaState.MET, SlaState.PAUSED) or clock.remaining is None:
        text.append(f"{look.symbol} {word}", style=look.style)
    else:
        text.append(f"{look.symbol} {look.word} {countdown(clock.remaining)}", style=look.style)
    return text


def row_style(state: SlaState) -> Style:
    return Style.parse(ROW_STYLES[state]) if ROW_STYLES[state] else Style()
