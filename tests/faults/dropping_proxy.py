"""A TCP proxy between the driver and the server that can lose one reply: it forwards a
command, lets the server apply it, drops the server's answer and closes the client's link.
Or hold one command back until told (``hold_next``, ``release``): a server that stalled with
the write in hand and applies it later, with no clock in the test deciding when.

SecantusDB's fail points act before a command runs; this is "applied, then the link dropped",
the case retryable writes exist for (the driver sends the same write again).
"""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

from helpdesk_tui.store.embedded import free_port


def _read_message(sock: socket.socket) -> bytes | None:
    """One wire-protocol message (its int32 length first), or None at the end of the stream."""
    head = _read_exactly(sock, 4)
    if head is None:
        return None
    (length,) = struct.unpack("<i", head)
    body = _read_exactly(sock, length - 4)
    return None if body is None else head + body


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        try:
            chunk = sock.recv(count - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class DroppingProxy:
    """``drop_reply_to(b"findAndModify")``: the next such command's reply is lost (once)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._armed: bytes | None = None
        self._hold: bytes | None = None
        self.held = threading.Event()  # a command is being held back
        self._released = threading.Event()
        self.dropped = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_reply_to(self, command: bytes) -> None:
        with self._lock:
            self._armed = command

    def hold_next(self, needle: bytes) -> None:
        """The next command whose bytes contain ``needle`` waits here until ``release()``."""
        with self._lock:
            self._hold = needle
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self._released.set()
        for sock in [self._listener, *self._sockets]:
            # shutdown first: on Linux a close() does not wake a thread blocked in recv() on
            # that socket (the driver's, on the other end, would wait for ever).
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            pending = threading.Event()  # this link's next reply is to be lost
            threading.Thread(target=self._up, args=(client, server, pending), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, pending), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, pending: threading.Event) -> None:
        while (message := _read_message(client)) is not None:
            hold = False
            with self._lock:
                if self._armed is not None and self._armed in message:
                    self._armed = None
                    pending.set()
                if self._hold is not None and self._hold in message:
                    self._hold, hold = None, True
            if hold:
                self.held.set()
                self._released.wait(120)
            try:
                server.sendall(message)
            except OSError:
                break
        with suppress(OSError):
            server.close()

    def _down(self, server: socket.socket, client: socket.socket, pending: threading.Event) -> None:
        while (message := _read_message(server)) is not None:
            if pending.is_set():  # applied by the server; its answer never arrives
                self.dropped += 1
                break
            client.sendall(message)
        for sock in (client, server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
