"""A bracketed paste is text, never keys: the terminal input parser, fixed for pastes.

Textual asks the terminal for bracketed paste (``ESC[?2004h``): a paste then arrives as
``ESC[200~`` text ``ESC[201~``. Textual's ``XTermParser`` (8.x) keeps only the characters it
reads between escape sequences as the paste; an ``ESC`` inside the text starts a sequence it
then gives up on and *replays as keys*, so a pasted ``text ESC . ctrl+s`` pressed ctrl+s (sent
the reply) and ``ESC … BEL`` pressed ctrl+g (closed the editor).

``PasteParser`` reads the text between the markers itself, byte for byte, and posts it as one
``Paste`` event, ``ESC`` and all; the widget that takes it (``widgets/safe.py``) removes the
control characters and says so. Everything outside a paste goes to Textual's parser as before.
``install`` makes a driver class read its input with it (the app's ``get_driver_class``).
A terminal that does not bracket pastes sends a paste as typed keys: nothing can tell them
apart from typing then.

Escape and a letter read together. ``ESC q`` alone in a read is Alt+q to Textual's parser
(the app makes it Escape, then q: ``app.escape_then_key``). With more keys behind it in the
same read (``esc q enter`` on a laggy link, a burst of keys), Textual's parser waited for a
longer escape sequence, and at the next ``ESC`` gave up and replayed them all as keys, the
``ESC`` as a ``^`` character: "esc q" typed ``^q`` into the reply instead of leaving it. An
``ESC`` and a letter that cannot begin a longer sequence end there, as they do when nothing
follows them. An ``ESC`` and any other character that begins no sequence (enter, space, ``/``,
a control key) Textual reads as that key alone, its Alt dropped and the Escape lost: they are
Escape, then the key.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable

from textual import events
from textual.driver import Driver
from textual.message import Message

from helpdesk_tui.textual_seam import (
    ANSI_SEQUENCES_KEYS,
    BRACKETED_PASTE_END,
    BRACKETED_PASTE_START,
    ParseEOF,
    ParseTimeout,
    Peek1,
    Read1,
    TokenCallback,
    XTermParser,
    replace_drivers_decoder,
    replace_drivers_parser,
)

ESC = "\x1b"
# What can follow ESC in a longer sequence: CSI, SS3, OSC, DCS, APC, PM, ST, and ESC (an
# Alt-prefixed sequence: ESC ESC [ A is Alt+Up).
INTRODUCERS = frozenset("[O]P_^\\\x1b")
KNOWN = frozenset(ANSI_SEQUENCES_KEYS)  # ESC f, ESC DEL, ESC 2 (Option+2)...: keys of their own


def _waits_for_more(awaiting: Read1 | Peek1) -> bool:
    """Textual's parser is inside an escape sequence, waiting (a while) for its next character."""
    return awaiting.timeout is not None


class PasteParser(XTermParser):
    """``XTermParser`` whose bracketed pastes are read here, whole (see the module doc)."""

    def __init__(self, debug: bool = False) -> None:
        self._pasting = False  # inside a paste (set by the parse loop), before Parser's init
        super().__init__(debug)

    def feed(self, data: str) -> Iterable[Message]:
        return super().feed(self._defuse(data))

    def _defuse(self, data: str) -> str:
        """A terminal that does not filter what it pastes sends the clipboard's own end marker
        as one: ``a ESC[201~ ctrl+s`` would end the paste early and press ctrl+s. A paste ends
        at the last end marker the terminal sent in one read (its own comes last): the markers
        inside lose their ESC and stay text. (A paste longer than one read, 4 KB, can still be
        cut at a marker of its own in an earlier read: only the terminal can filter that.)"""
        start = 0 if self._pasting else data.find(BRACKETED_PASTE_START)
        if start < 0:
            return data
        begin = start if self._pasting else start + len(BRACKETED_PASTE_START)
        last = data.rfind(BRACKETED_PASTE_END)
        if last < begin:
            return data
        inside = data[begin:last]
        if "\x1b[20" not in inside:
            return data
        for marker in (BRACKETED_PASTE_START, BRACKETED_PASTE_END):
            inside = inside.replace(marker, marker[1:])
        return data[:begin] + inside + data[last:]

    def parse(self, token_callback: TokenCallback[Message]) -> Generator[Read1 | Peek1, str, None]:
        def forward(token: Message) -> None:
            # Textual's parser never sees a paste's text now; the empty Paste it makes when
            # it sees the end marker is not a paste.
            if not isinstance(token, events.Paste):
                token_callback(token)

        inner = super().parse(forward)
        awaiting = next(inner)
        recent = ""  # the last characters Textual's parser read, to spot the start marker
        escaped = False  # the last character began an escape sequence
        while True:
            try:
                character = yield awaiting
            except (ParseTimeout, ParseEOF) as error:
                escaped = False
                if isinstance(error, ParseTimeout):
                    recent = ""  # a lone ESC timed out: what follows starts afresh
                try:
                    awaiting = inner.throw(error)
                except StopIteration:
                    return
                continue
            alone = escaped and character not in INTRODUCERS and ESC + character not in KNOWN
            try:
                if alone and not character.isalpha():
                    # Read with it, its Alt would be dropped and the Escape lost: Escape first.
                    awaiting = inner.throw(ParseTimeout())
                awaiting = inner.send(character)
                if alone and character.isalpha() and _waits_for_more(awaiting):
                    # ESC and a letter: read as when nothing follows (Alt+it, for the app to
                    # call Escape and the letter), not replayed with the keys after it.
                    awaiting = inner.throw(ParseTimeout())
            except StopIteration:
                return
            escaped = character == ESC and _waits_for_more(awaiting)
            recent = (recent + character)[-len(BRACKETED_PASTE_START) :]
            if recent == BRACKETED_PASTE_START:
                recent = ""
                pasted = yield from self._read_paste(token_callback)
                if pasted is None:
                    return
                # Textual's parser leaves its own paste mode on the end marker.
                for character in BRACKETED_PASTE_END:
                    awaiting = inner.send(character)

    def _read_paste(
        self, token_callback: TokenCallback[Message]
    ) -> Generator[Read1 | Peek1, str, str | None]:
        """Read up to the end marker and post the text as a ``Paste``; None at end of input."""
        self._pasting = True
        try:
            return (yield from self._read_to_end(token_callback))
        finally:
            self._pasting = False

    @staticmethod
    def _read_to_end(
        token_callback: TokenCallback[Message],
    ) -> Generator[Read1 | Peek1, str, str | None]:
        end = BRACKETED_PASTE_END
        chunks: list[str] = []
        tail = ""
        while True:
            try:
                character = yield Read1()
            except ParseEOF:
                character = ""
            if not character:  # end of input inside a paste: what came is still the paste
                token_callback(events.Paste("".join(chunks) + tail))
                return None
            tail += character
            if tail == end:
                text = "".join(chunks)
                token_callback(events.Paste(text))
                return text
            if not end.startswith(tail):
                # Keep only the longest end of ``tail`` that may begin the end marker.
                keep = next(
                    (n for n in range(len(tail) - 1, 0, -1) if end.startswith(tail[-n:])), 0
                )
                chunks.append(tail[: len(tail) - keep])
                tail = tail[len(tail) - keep :]


def install(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class``, its input read by ``PasteParser`` (Textual's drivers build their
    parser from their module's ``XTermParser``: the Linux, inline and web drivers), and
    decoded leniently: a byte that is not UTF-8 (a raw C1 ``0x9b`` in a paste, noise on the
    link) becomes U+FFFD instead of ending the app."""
    replace_drivers_parser(driver_class, PasteParser)
    replace_drivers_decoder(driver_class)
    return driver_class
