"""The footer of every screen, never with a key cut in half.

Textual's ``Footer`` lays its keys out in a row and lets the ones past the right edge fall off
(at 80 columns the ticket screen showed ``c Cu▏^p palette``). ``KeyFooter`` shows the same
bindings (``show=True``, with the key ``[keys]`` gave them), but fits them to the width: all of
them as Textual would when they fit; otherwise the compact style (one space less per key);
otherwise the compact style with the least important keys left out, ``first`` naming the ones
that matter most. A key left out stays on the help screen (``?``) and in the palette. Keys
and descriptions are shown by the rendering rule (``App.get_key_display`` and ``one_line``).

It draws the row itself, one line, as Textual's ``Footer`` looks (the same theme variables,
paddings, margins, the palette key on the right behind its bar, a key under the pointer
highlighted, a disabled one dim): Textual's is a widget per key, and each screen's first frame
styled, laid out and rendered a dozen of them (a third of a ticket's open; issue 29). A click
on a key presses it, as on Textual's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from helpdesk_tui.domain.text import one_line
from helpdesk_tui.textual_seam import node_bindings

# Cells a key takes besides its key and description text: " r Reply " (padding around the
# key, after the description), or compact "r Reply" plus its right margin.
_EXTRA = {False: 3, True: 2}
_EXTRA_NO_DESCRIPTION = {False: 2, True: 1}
# The palette key on the right: "▏^p palette" plus its right padding or margin.
_PALETTE_EXTRA = 3


def declared_order(node: DOMNode) -> dict[str, int]:
    """Each action's place in ``node``'s bindings as declared: a key [keys] moved keeps its
    action's place (Textual's keymap appends the rebound keys last)."""
    declared = [b.action for bs in node_bindings(node).key_to_bindings.values() for b in bs]
    return {action: n for n, action in reversed(list(enumerate(declared)))}


def _width(display: str, description: str, compact: bool) -> int:
    if description:
        return cell_len(display) + cell_len(description) + _EXTRA[compact]
    return cell_len(display) + _EXTRA_NO_DESCRIPTION[compact]


@dataclass(frozen=True)
class _Key:
    """A key as drawn: its cells ``start`` to ``end`` on the line."""

    key: str  # the key pressed by a click
    display: str
    description: str  # made safe (``one_line``)
    action: str
    enabled: bool
    tooltip: str
    start: int = 0
    end: int = 0


class KeyFooter(Widget, can_focus=False):
    """Every screen's key line (see the module docstring)."""

    ALLOW_SELECT = False
    # Textual's Footer and FooterKey rules, as the parts of one line.
    COMPONENT_CLASSES = {
        "footer-key--item",
        "footer-key--key",
        "footer-key--description",
        "footer-key--hover",
        "footer-key--bar",
    }
    DEFAULT_CSS = """
    KeyFooter {
        color: $footer-foreground;
        background: $footer-background;
        dock: bottom;
        height: 1;
        .footer-key--item {
            background: $footer-item-background;
        }
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
        .footer-key--bar {
            color: $foreground 20%;
            background: $footer-item-background;
        }
    }
    """

    def __init__(self, *, first: Sequence[str] = (), show_command_palette: bool = True) -> None:
        """``first``: binding ids (or action names), most important first; the keys not named
        come after them, in the order of the bindings."""
        super().__init__()
        self.first = tuple(first)
        self.show_command_palette = show_command_palette
        self._keys: list[_Key] = []
        self._palette_key: _Key | None = None
        self._compact = False
        self._laid_out_for = -1
        self._shown_as: tuple[object, ...] | None = None  # what the keys shown were made of
        self._hover: str | None = None  # the action of the key under the pointer
        self._strip: Strip | None = None

    def _width_now(self) -> int:
        return self.size.width or self.screen.size.width or self.app.size.width

    def _shown(self) -> list[tuple[Binding, bool, str]]:
        """The footer's bindings (one per action, in binding order), as Textual picks them."""
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        place: dict[str, tuple[int, int]] = {}  # action: (its node's turn, its declared place)
        turns: dict[int, int] = {}
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = (binding, enabled, tooltip)
                order = declared_order(node)
                turn = turns.setdefault(id(node), len(turns))
                place[binding.action] = (turn, order.get(binding.action, len(order)))
        # Node by node as Textual gives them, each node's actions as declared: a key [keys]
        # moved keeps its action's place (Textual's keymap puts a rebound key last).
        return [by_action[a] for a in sorted(by_action, key=place.__getitem__)]

    def _rank(self, binding: Binding) -> int:
        for index, name in enumerate(self.first):
            if name in (binding.id, binding.action):
                return index
        return len(self.first)

    def fit(self, width: int) -> tuple[list[tuple[Binding, bool, str]], bool]:
        """The bindings to show at ``width`` (in binding order) and whether compact."""
        shown = self._shown()
        palette = self._palette()
        room = width
        if palette is not None:
            display, description = self._texts(palette[0])
            room -= cell_len(display) + cell_len(description) + _PALETTE_EXTRA

        texts = [self._texts(b) for b, _, _ in shown]  # each key's, measured once
        if sum(_width(*t, False) for t in texts) <= room:
            return shown, False
        if sum(_width(*t, True) for t in texts) <= room:
            return shown, True
        kept: list[tuple[Binding, bool, str]] = []
        used = 0
        ranked = sorted(range(len(shown)), key=lambda i: (self._rank(shown[i][0]), i))
        for index in ranked:
            size = _width(*texts[index], True)
            if used + size <= room:
                kept.append(shown[index])
                used += size
        return [item for item in shown if item in kept], True

    def _palette(self) -> tuple[Binding, bool, str] | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        try:
            _node, binding, enabled, tooltip = self.screen.active_bindings[
                self.app.COMMAND_PALETTE_BINDING
            ]
        except KeyError:
            return None
        return binding, enabled, tooltip

    def lay_out(self) -> None:
        """The keys for the width there is now, from the screen's bindings as they stand."""
        width = self._width_now()
        items, compact = self.fit(width)
        self._laid_out_for = width
        keys = [self._key(b, enabled, tooltip) for b, enabled, tooltip in items]
        palette = self._palette()
        palette_key = None
        if palette is not None:
            binding, enabled, _tooltip = palette
            palette_key = self._key(binding, enabled, binding.tooltip or binding.description)
        shown = (compact, tuple(keys), palette_key)
        if shown == self._shown_as:
            return  # the same keys, enabled alike: nothing to draw again
        self._shown_as = shown
        self._compact = compact
        self.set_class(compact, "-compact")
        self._keys, self._palette_key = keys, palette_key
        self._hover = None
        self._strip = None
        self.refresh()

    def _texts(self, binding: Binding) -> tuple[str, str]:
        """A key's display and description as drawn (and measured): segments, never parsed,
        so on one line with every control spelled out."""
        return one_line(self.app.get_key_display(binding)), one_line(binding.description)

    def _key(self, binding: Binding, enabled: bool, tooltip: str) -> _Key:
        display, description = self._texts(binding)
        return _Key(binding.key, display, description, binding.action, enabled, tooltip)

    @property
    def keys(self) -> list[_Key]:
        """The keys shown, left to right, the palette's last."""
        return [*self._keys, *filter(None, [self._palette_key])]

    # --- when to lay out again ------------------------------------------------------------------

    def on_mount(self) -> None:
        self.lay_out()
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """A key enabled or not, or bound anew: drawn again if what is shown changed (a start
        or a screen switch signals several times; most change nothing)."""
        if not screen.app.app_focus:
            return  # as Textual's: a terminal losing focus clears the focus, not the keys
        if self.is_attached and screen is self.screen:
            self.lay_out()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self.lay_out()
        self._strip = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip = None

    # --- drawing --------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y or width <= 0:
            return Strip.blank(width, self.rich_style)
        if self._strip is None or self._strip.cell_length != width:
            self._strip = self._draw(width)
        return self._strip

    def _draw(self, width: int) -> Strip:
        background = self.rich_style
        segments: list[Segment] = []
        x = 0
        drawn: list[_Key] = []
        for key in self._keys:
            parts = self._parts(key, compact=self._compact, margin=self._compact)
            start = x
            for text, style in parts:
                segments.append(Segment(text, style))
                x += cell_len(text)
            drawn.append(replace(key, start=start, end=x - (1 if self._compact else 0)))
        self._keys = drawn
        right: list[Segment] = []
        if self._palette_key is not None:
            key = self._palette_key
            base = self._base(key)
            bar = self.get_component_rich_style("footer-key--bar")
            right.append(Segment("▏", base + Style(color=bar.color)))
            right.extend(Segment(t, st) for t, st in self._parts(key, compact=True, margin=False))
            right.append(Segment(" ", background if self._compact else base))
            size = sum(cell_len(s.text) for s in right)
            self._palette_key = replace(
                key, start=width - size, end=width - (1 if self._compact else 0)
            )
        used = x + sum(cell_len(s.text) for s in right)
        if used < width:
            segments.append(Segment(" " * (width - used), background))
        return Strip([*segments, *right]).crop_extend(0, width, background)

    def _base(self, key: _Key) -> Style:
        """The key's own cells: the item's (or the pointer's highlight), dim if disabled."""
        name = "footer-key--hover" if key.action == self._hover else "footer-key--item"
        style = self.get_component_rich_style(name)
        return style + Style(dim=True) if not key.enabled else style

    def _parts(self, key: _Key, *, compact: bool, margin: bool) -> list[tuple[str, Style]]:
        """A key's text and styles, as Textual's ``FooterKey`` draws it; ``margin``: the space
        after it in the footer's background (compact)."""
        base = self._base(key)
        key_style = base + self.get_component_rich_style("footer-key--key", partial=True)
        described = base + self.get_component_rich_style("footer-key--description", partial=True)
        if key.description:
            if compact:
                parts = [(key.display, key_style), (" " + key.description, described)]
            else:
                parts = [(f" {key.display} ", key_style), (key.description + " ", described)]
        else:
            parts = [(key.display, key_style)]
        if margin:
            parts.append((" ", self.rich_style))
        return parts

    # --- the mouse ------------------------------------------------------------------------------

    def _key_at(self, x: int) -> _Key | None:
        return next((k for k in self.keys if k.start <= x < k.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover_over(self._key_at(event.x))

    def on_leave(self) -> None:
        self._hover_over(None)

    def _hover_over(self, key: _Key | None) -> None:
        action = key.action if key is not None else None
        if action != self._hover:
            self._hover = action
            self.tooltip = key.tooltip if key is not None and key.tooltip else None
            self.styles.pointer = "pointer" if key is not None else "default"
            self._strip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
