"""The app in a real headless browser: ``helpdesk-tui serve --demo``, Chromium, three checks.

1. the page loads (textual-serve's page, and the app's first bytes reach the terminal in it);
2. the queue shows (the view bar and ticket numbers arrive over the page's WebSocket);
3. a key works (``?`` typed into the page opens the help screen);
then it saves a screenshot of the tab to ``screenshots/browser.png`` for the README.

CI has no browser, so this is a script, not a test. Needs Chromium and Playwright:

    apt-get install -y chromium        # Debian's build; Playwright's own download is not used
    pip install playwright
    python scripts/browser_check.py    # exit 0: all three checks passed

The xterm.js terminal in the page draws on a canvas (WebGL), so the checks read the screen
updates the app sends to the page over its WebSocket, not the DOM.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"browser check: the server did not listen on {port} in {seconds:g}s")


def screen_text(frames: list[bytes | str]) -> str:
    """What the app wrote to the page so far, escape sequences removed."""
    raw = "".join(f if isinstance(f, str) else f.decode("utf-8", "ignore") for f in frames)
    return ANSI.sub("", raw)


def wait_for(frames: list[bytes | str], needle: str, seconds: float, page: object) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in screen_text(frames):
            return True
        page.wait_for_timeout(200)  # type: ignore[attr-defined]  # lets Playwright deliver frames
    return False


def open_page(
    playwright: object, chromium: str, port: int
) -> tuple[object, object, list[bytes | str]]:
    """Headless Chromium on the served page: the browser, the page, and every WebSocket frame
    the page receives (what the app sent; xterm.js draws on a canvas, so the checks read
    these)."""
    browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=chromium, args=CHROMIUM_ARGS, headless=True
    )
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    frames: list[bytes | str] = []

    def received(frame: bytes | str) -> None:
        frames.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    return browser, page, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshot", default=str(ROOT / "screenshots" / "browser.png"))
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "helpdesk_tui", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the visitor's app process stops with it
    )
    checks: list[tuple[str, bool]] = []
    try:
        wait_for_port(port, args.timeout)
        with sync_playwright() as playwright:
            browser, page, frames = open_page(playwright, args.chromium, port)
            terminal = page.locator(".textual-terminal").count() == 1
            try:  # textual.js marks the body once the app's first bytes reached the terminal
                page.wait_for_function(
                    "document.body.classList.contains('-first-byte')",
                    timeout=args.timeout * 1000,
                )
                first_bytes = True
            except PlaywrightTimeout:
                first_bytes = False
            checks.append(("page loads", terminal and first_bytes))
            queue = wait_for(frames, "My tickets", args.timeout, page) and wait_for(
                frames, "TKT-", args.timeout, page
            )
            checks.append(("the queue shows", queue))
            page.wait_for_timeout(1500)  # the first rows painted
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)
            page.locator(".textual-terminal").click()
            page.keyboard.press("?")
            checks.append(("a key works (? opens help)", wait_for(frames, "Help: Queue", 20, page)))
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    for name, passed in checks:
        print(f"{'ok  ' if passed else 'FAIL'} {name}")
    print(f"screenshot: {args.screenshot}")
    passed = len(checks) == 3 and all(ok for _, ok in checks)
    print(f"{sum(ok for _, ok in checks)} passed, {sum(not ok for _, ok in checks)} failed")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
