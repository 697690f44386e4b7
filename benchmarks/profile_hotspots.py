"""cProfile one action of the app (in process, as the benchmarks run it) and print the top.

    .venv/bin/python benchmarks/profile_hotspots.py open_ticket   # enter on 200 messages
    .venv/bin/python benchmarks/profile_hotspots.py switch_view   # 1-5 between 10k views
    .venv/bin/python benchmarks/profile_hotspots.py scroll        # j past the visible rows
    .venv/bin/python benchmarks/profile_hotspots.py tick          # the 15 s countdown tick
    .venv/bin/python benchmarks/profile_hotspots.py first_paint   # app start, demo SecantusDB

Add ``--sort tottime`` for self time (default: cumulative). Only the UI thread is profiled
(the store runs in worker threads). Timings under cProfile are 2-3x the real ones.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PaintProbe, build_app, fake_store, send_key
from bench_keys import snapshotter


async def run(action: str, profile: cProfile.Profile) -> float:
    from helpdesk_tui.config import Config

    config = Config.model_validate({"ui": {"poll_interval_seconds": 3600}})
    if action == "first_paint":
        from helpdesk_tui.cli import demo_store

        store, _, server = demo_store(config, tickets=300)
        try:
            return await measure(action, profile, store, config)
        finally:
            store.db.client.close()
            server.stop()
    store, _, _ = fake_store(10_000, long_ticket_messages=200)
    return await measure(action, profile, store, config)


async def measure(action: str, profile: cProfile.Profile, store: Any, config: Any) -> float:
    app = build_app(store, config=config)
    probe = PaintProbe(app, snapshotter(app))
    start = time.perf_counter()
    if action == "first_paint":
        profile.enable()
    async with app.run_test(size=(120, 40)) as pilot:
        await probe.wait(0, lambda s: s[0] == "queue" and s[2] > 0, timeout=30)
        if action == "first_paint":
            profile.disable()
            return time.perf_counter() - start
        await pilot.pause(0.3)
        screen = app.screen
        if action == "open_ticket":
            profile.enable()
            start, _ = send_key(app, "enter")
            at, _ = await probe.wait(start, lambda s: s[0] == "ticket" and s[1] >= 200, 20)
            profile.disable()
            return at - start
        if action == "switch_view":
            total = 0.0
            for index in (2, 0, 4, 0, 3, 0):
                before = id(screen.page)
                profile.enable()
                start, _ = send_key(app, str(index + 1))
                at, _ = await probe.wait(
                    start, lambda s, i=index, b=before: s[0] == "queue" and s[3] == i and s[4] != b
                )
                profile.disable()
                total += at - start
                await pilot.pause(0.2)
            return total / 6
        if action == "scroll":
            visible = screen.table.scrollable_content_region.height
            total = 0.0
            for i in range(visible + 10):
                row = screen.table.cursor_row
                if i >= visible:
                    profile.enable()
                start, _ = send_key(app, "j")
                at, _ = await probe.wait(start, lambda s, r=row: s[1] == r + 1)
                profile.disable()
                total += (at - start) if i >= visible else 0
                await asyncio.sleep(0.02)
            return total / 10
        if action == "tick":
            from datetime import timedelta

            now = store.now() + timedelta(minutes=1)
            profile.enable()
            start = time.perf_counter()
            screen.tick(now)
            at, _ = await probe.wait(start)
            profile.disable()
            return at - start
    raise SystemExit(f"unknown action {action}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "action", choices=["open_ticket", "switch_view", "scroll", "tick", "first_paint"]
    )
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    profile = cProfile.Profile()
    seconds = asyncio.run(run(args.action, profile))
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(f"{args.action}: {seconds * 1000:.1f} ms under the profiler (mean per action)")
    print(out.getvalue())


if __name__ == "__main__":
    main()
