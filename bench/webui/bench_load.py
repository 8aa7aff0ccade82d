"""Many people at once: N users (default 10) each upload the real chr21 genome and run all five modules at the
same moment; while their runs queue and run, every user keeps clicking (UI round trips) and moving between
pages (navigation). Measures round-trip and navigation percentiles per phase, the queue positions each run
page showed, run times, and checks every report is correct and private.

With --engines the same workload runs against the scale-out set-up: accounts on a real PostgreSQL, web-app state
on a real Redis, `--prod` with two backend workers, JUST_DNA_RUN_MODE=queue (Dagster's storage on the same
PostgreSQL; code server, daemon with the QueuedRunCoordinator and DefaultRunLauncher, webserver, all started by
`start`). The servers are started from webui.engines in temp folders on loopback ports and stopped after.

With --browser-users K only the first K users keep their browser for the watch phase; the others speak the
app's websocket protocol directly (the frames a browser sends for the same clicks, replayed from the bench's
process), so the server carries ten people's traffic while the machine carries K browsers, not ten: on a real
deployment each person's browser runs on their own machine. Their figures are the server's answer times.

Usage: uv run python bench/webui/bench_load.py [--users 10] [--browser-users K] [--dev] [--engines]
Everything it writes goes to bench/out/webui-load/ (bench/out/webui-load-engines/ with --engines; git-ignored).
Needs ../shared/fixtures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shlex
import statistics
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from webui.harness import CHROMIUM, CHROMIUM_ARGS, MARKER, REPO_ROOT, running_app

sys.path.insert(0, str(REPO_ROOT / "bench" / "webui"))
from bench_webui import fresh_app_env, machine, note, pct  # the sibling bench, on the path above

FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures"
CHR21 = FIXTURES / "genomes" / "PG_NA12878_hg38-chr21.vcf.gz"
SAMPLE = "PG_NA12878_hg38-chr21"
OUT = REPO_ROOT / "bench" / "out" / "webui-load"
PASSWORD = "bench password for many"
ROUND_TRIP_JS = """
async () => {
  // Toggle the checklist (all <-> none) and time the click until the server's new state is on the page.
  // The target depends on the current state, so every click changes something.
  const button = () => document.querySelector('#run-button');
  for (let i = 0; i < 3000 && !button(); i++) await new Promise(r => setTimeout(r, 10));  // page redrawn
  if (!button()) return null;
  const allTicked = button().innerText.includes('Run 6');
  const [selector, expect] = allTicked ? ['#select-none', 'Run 0'] : ['#select-all', 'Run 6'];
  const sentBefore = window.__sent.length;
  const done = new Promise(resolve => {
    setTimeout(() => resolve(null), 30000);
    const observer = new MutationObserver(() => {
      if (button() && button().innerText.includes(expect)) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  });
  const start = performance.now();
  document.querySelector(selector).click();
  const end = await done;
  if (end === null) return null;
  // the server's share: the toggle's event frame out until the first event frame after it came back
  const sent = window.__sent.length > sentBefore ? window.__sent[sentBefore] : null;
  const back = sent === null ? undefined : window.__received.find(([t]) => t >= sent);
  return {total: end - start, server: back === undefined ? null : back[0] - sent};
}
"""


# What an update answering each page's on-load carries: the page state's name as Reflex spells it in its
# updates, and a field its on-load handler always sets (the last one it sets on the sample page).
SAMPLE_STATE = ['sample____sample_state":{', "runs_rx_state_"]
RUN_STATE = ['run____run_state":{', "run_id_rx_state_"]
ENDED = {"success", "failure", "canceled"}  # run statuses after which the run page shows its outcome
CONNECT, EVENT = "40/_event,", "42/_event,"  # socket.io frames on Reflex's namespace: connect, event
ON_LOAD = "reflex___state____state.reflex___state____on_load_internal_state.on_load_internal"
SAMPLE_HANDLER = (
    "reflex___state____state.webui___states___auth____auth_state.webui___states___sample____sample_state."
)
# The least time each action of a wire user takes: what it takes a browser on the idle machine (medians of a
# 2-user run here, 2026-12-02: click round trip 60 ms, in-app move 0.58 s, full page load 1.6 s), so a wire
# user asks no faster than a person in a browser could.
WIRE_PACE_S = {"round_trip": 0.06, "move": 0.58, "page_load": 1.6}
MOVE_TIMEOUT_S = 60.0
STEP_TIMEOUT_MS = 120_000  # any other wait of the watch phase (a hung wait is recorded, not waited out)
# Installed in every page before its scripts run: the page's own clock (performance.now()) for every socket.io
# event frame (engine.io message "4", socket.io event "2") it sends and receives, and which on-load answer a
# received one holds. Measuring inside the page keeps the bench's own driver traffic out of the figures.
FRAME_CLOCK_JS = """
(() => {
  const markers = __MARKERS__;
  window.__sent = []; window.__received = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        if (typeof event.data !== 'string' || !event.data.startsWith('42')) return;
        const held = Object.keys(markers).find(k => markers[k].every(part => event.data.includes(part)));
        window.__received.push([performance.now(), held || '']);
      });
    }
    send(data) {
      if (typeof data === 'string' && data.startsWith('42')) window.__sent.push(performance.now());
      return super.send(data);
    }
  };
})();
""".replace("__MARKERS__", json.dumps({"sample": SAMPLE_STATE, "run": RUN_STATE}))
# Follow an in-app link and time it in the page: from the click until the server's answer for the new page
# (an update of its state, after the click) has arrived, `ready` is on the page and a frame has been drawn.
# Also the server's share (the first event frame sent after the click until that answer arrived) and the time
# before that frame was sent (the page draws the new route first).
MOVE_JS = """
async ([click, marker, ready, timeoutMs]) => {
  const sentBefore = window.__sent.length;
  const start = performance.now();
  document.querySelector(click).click();
  const answer = await new Promise(resolve => {
    const look = () => {
      const found = window.__received.find(([t, held]) => t >= start && held === marker);
      if (found && document.querySelector(ready)) return resolve(found[0]);
      if (performance.now() - start > timeoutMs) return resolve(null);
      setTimeout(look, 5);
    };
    look();
  });
  if (answer === null) {
    return {total: null, sent: window.__sent.length - sentBefore,
            received: window.__received.filter(([t]) => t >= start).length};
  }
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));  // drawn
  const sent = window.__sent.length > sentBefore ? window.__sent[sentBefore] : null;
  return {total: performance.now() - start, server: sent === null ? null : answer - sent,
          beforeSend: sent === null ? null : sent - start};
}
"""

# After a full page load: milliseconds from the navigation's start (the page's time origin) until `ready` is on
# the page and a frame has been drawn (null: not within timeoutMs).
LOADED_JS = """
async ([ready, timeoutMs]) => {
  while (!document.querySelector(ready)) {
    if (performance.now() > timeoutMs) return null;
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return performance.now();
}
"""


def summary(values: list[float]) -> dict[str, float | int]:
    """Count, median, p95 and max in milliseconds."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(pct(values, 0.95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


class User:
    """One person in their own browser context, with what they measured."""

    def __init__(self, name: str, context, url: str) -> None:
        self.name, self.context, self.url = name, context, url
        self.page: Any = None
        self.run_url = ""
        self.round_trips: list[tuple[float, float]] = []  # (wall time, seconds)
        self.navigations: list[tuple[float, float]] = []  # in-app moves
        # The server's share of each: from the page sending the event until the answer's frame arrived in the page
        # (the page's own clock), so drawing the page is not in it.
        self.round_trip_server: list[float] = []
        self.navigation_server: list[float] = []
        self.navigation_before_send: list[
            float
        ] = []  # click until the page asks the server (it draws the route first)
        self.page_loads: list[tuple[float, float]] = []  # full page loads
        self.stuck = 0  # in-app moves that did not arrive
        self.stuck_details: list[dict[str, object]] = []  # what the browser sent and got during each
        self.queue_seen: list[str] = []
        self.started = self.finished = 0.0
        self.everyone: list[User] = [self]  # everyone keeps watching and clicking until all their runs ended
        self.report_ok = False
        self.private_ok = False
        # the page's first frame on its websocket: hydrate, as the browser asks it
        self.hello: dict | None = None

    def keep_hello(self, socket) -> None:
        """Keep the first socket.io connect frame this browser sends (what a wire tab sends on connecting)."""

        def sent(frame) -> None:
            if self.hello is None and isinstance(frame, str) and frame.startswith(CONNECT):
                self.hello = json.loads(frame[len(CONNECT) :])

        socket.on("framesent", sent)

    async def join(self) -> None:
        """Sign up and upload the genome."""
        self.page = page = await self.context.new_page()
        page.set_default_timeout(600_000)
        await self.context.add_init_script(FRAME_CLOCK_JS)
        page.on("websocket", self.keep_hello)
        await page.goto(f"{self.url}/signup")
        await page.fill("#name", self.name)
        await page.fill("#password", PASSWORD)
        await page.fill("#confirm", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#user-menu")
        await page.wait_for_selector("#vcf_upload[data-ready='true']")
        await page.set_input_files("#vcf_upload input[type=file]", str(CHR21))
        await page.wait_for_selector(".sample-card")

    async def open_sample(self) -> float:
        """Navigate to the sample page; seconds until its checklist is live."""
        start = time.perf_counter()
        await self.page.goto(f"{self.url}/sample?name={SAMPLE}")
        await self.page.wait_for_selector("#module-longevitymap")
        await self.page.wait_for_function("!!document.querySelector('#run-button')")
        return time.perf_counter() - start

    async def launch(self) -> None:
        """Tick all modules and press Run."""
        await self.open_sample()
        await self.page.click("#select-all")
        await self.page.wait_for_function("document.querySelector('#run-button').innerText.includes('Run 6')")
        self.started = time.time()
        await self.page.click("#run-button")
        await self.page.wait_for_url("**/run?id=*")
        self.run_url = self.page.url

    async def move(self, click: str, marker: str, ready: str, fallback: str) -> float:
        """Follow an in-app link: seconds from the click until the server's answer for the new page has arrived
        and been drawn, and `ready` is on the page (timed in the page, MOVE_JS). A move that has not arrived in
        MOVE_TIMEOUT_S counts as that long (and is counted in `stuck`); the page is then loaded from `fallback`."""
        await self.page.wait_for_selector(click, timeout=STEP_TIMEOUT_MS)
        took = await self.page.evaluate(MOVE_JS, [click, marker, ready, MOVE_TIMEOUT_S * 1000])
        if took["total"] is None:
            self.stuck += 1
            self.stuck_details.append({"click": click, "url": self.page.url, **took})
            await self.page.goto(fallback)
            await self.page.wait_for_selector(ready, timeout=STEP_TIMEOUT_MS)
            return MOVE_TIMEOUT_S
        if took["server"] is not None:
            self.navigation_server.append(took["server"] / 1000)
            self.navigation_before_send.append(took["beforeSend"] / 1000)
        return took["total"] / 1000

    async def watch_and_click(self, deadline: float) -> None:
        """Until every user's run has ended (this user's report or failure shows, and everyone else's): read the
        run page (queue place, progress), move to the sample page and back by the app's links (in-app
        navigation), and click the module checklist (UI round trips); every third pass reloads the run page
        instead (a full page load: bundle, websocket, hydration)."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = self.page
        page.set_default_timeout(STEP_TIMEOUT_MS)
        passes = 0
        while time.monotonic() < deadline:
            try:
                if await self.one_pass(passes):
                    break
            except PlaywrightTimeout as exc:  # a wait that hung: note where, start the next pass afresh
                self.stuck_details.append({"hung": str(exc).splitlines()[0], "url": page.url})
                passes = -1  # the next pass reloads the run page
            passes += 1
        page.set_default_timeout(600_000)

    async def one_pass(self, passes: int) -> bool:
        """One pass of `watch_and_click`; whether the run has ended (its report or failure shows)."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = self.page
        run_link = f"#run-history a[href$='{self.run_url.split('id=')[1]}']"
        if passes % 3 == 0:
            await page.goto(self.run_url)
            # timed in the page: from the navigation's start until the back link (shown once the server's
            # on-load answer is in) is drawn
            loaded = await page.evaluate(LOADED_JS, ["#back-to-sample", STEP_TIMEOUT_MS])
            if loaded is None:
                raise PlaywrightTimeout("the reloaded run page never showed its back link")
            self.page_loads.append((time.time(), loaded / 1000))
        else:
            took = await self.move(run_link, "run", "#run-status", self.run_url)
            self.navigations.append((time.time(), took))
        await page.wait_for_timeout(100)  # the run page's own first update (a queued run's place)
        position = await page.query_selector("#queue-position")
        if position is not None:
            self.queue_seen.append((await position.inner_text()).strip())
        if await page.query_selector("#report-frame") or await page.query_selector("#run-failure"):
            self.finished = self.finished or time.time()
        if self.everyone_done():
            return True
        took = await self.move(
            "#back-to-sample", "sample", "#module-longevitymap", f"{self.url}/sample?name={SAMPLE}"
        )
        await page.wait_for_selector("#run-button")
        self.navigations.append((time.time(), took))
        for _ in range(4):
            took = await page.evaluate(ROUND_TRIP_JS)
            self.round_trips.append((time.time(), (took["total"] if took else 30000) / 1000))
            if took and took["server"] is not None:
                self.round_trip_server.append(took["server"] / 1000)
        return False

    def everyone_done(self) -> bool:
        """Whether every user's run has ended (until then, those whose run ended go on using the app)."""
        return all(user.finished for user in self.everyone)

    async def check(self, others: list[str]) -> None:
        """The report shows this genome's known hit; the home page lists only this user's sample."""
        page = self.page
        await page.goto(self.run_url)
        await page.frame_locator("#report-frame").locator("text=rs2253363").first.wait_for(timeout=120_000)
        self.report_ok = True
        await page.goto(f"{self.url}/")
        await page.wait_for_selector(".sample-card")
        cards = await page.eval_on_selector_all(".sample-card", "els => els.map(e => e.innerText)")
        self.private_ok = len(cards) == 1 and SAMPLE in cards[0]
        for other in others:  # another user's run page is refused
            await page.goto(other)
            await page.wait_for_selector("#not-found")


class WireTab:
    """One tab's websocket spoken directly: Reflex's socket.io frames as the browser sends them (engine.io over a
    websocket: "0" open, "40/_event,{hello}" connect with the hydrate event, "42/_event,[...]" events, "2"/"3"
    ping/pong), with the session cookie the server set at sign-up. Every received event frame is kept with the
    time it arrived."""

    def __init__(self, url: str, cookie: str, hello: dict) -> None:
        self.url, self.cookie, self.hello = url, cookie, hello
        self.token = str(uuid.uuid4())
        self.socket: Any = None
        self.reader: asyncio.Task | None = None
        self.received: list[tuple[float, str]] = []
        self.arrived = asyncio.Event()

    async def open(self, path: str, query: dict[str, str]) -> None:
        """Connect as a page loaded at `path` does: the websocket, then hydrate and on-load for that route."""
        from websockets.asyncio.client import connect

        await self.close()
        host = self.url.split("://", 1)[1]
        self.socket = await connect(
            f"ws://{host}/_event/?token={self.token}&EIO=4&transport=websocket",
            additional_headers={"Cookie": self.cookie, "Origin": self.url},
            max_size=None,
        )
        await self.socket.recv()  # engine.io open
        hello = json.loads(json.dumps(self.hello))
        hello["event"]["router_data"] = route(f"{path}/", query)
        await self.socket.send(CONNECT + json.dumps(hello))
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        """Keep every event frame; answer the server's pings."""
        assert self.socket is not None
        with contextlib.suppress(Exception):
            async for frame in self.socket:
                if frame == "2":
                    await self.socket.send("3")
                elif isinstance(frame, str) and frame.startswith(EVENT):
                    self.received.append((time.perf_counter(), frame))
                    self.arrived.set()

    async def send(self, handler: str, path: str, query: dict[str, str]) -> float:
        """Send one event (as the page's click does); the time it left."""
        assert self.socket is not None
        body = {"name": handler, "router_data": route(path, query)}
        sent = time.perf_counter()
        await self.socket.send(EVENT + json.dumps(["event", body]))
        return sent

    async def answer(self, after: float, *parts: str, timeout_s: float = MOVE_TIMEOUT_S) -> float | None:
        """When the first frame received after `after` holding every one of `parts` arrived (None: not in time)."""
        deadline = time.perf_counter() + timeout_s
        while True:
            for at, frame in self.received:
                if at >= after and all(part in frame for part in parts):
                    return at
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    def latest(self, field: str) -> str | None:
        """The newest value of a string field of the run state the server pushed."""
        pattern = re.compile(rf'"{field}_rx_state_":"((?:[^"\\]|\\.)*)"')
        for _, frame in reversed(self.received):
            found = pattern.search(frame)
            if found:
                return json.loads(f'"{found.group(1)}"')
        return None

    async def close(self) -> None:
        """Close the socket (as leaving the page does)."""
        if self.socket is not None:
            await self.socket.close()
            self.socket = None
        if self.reader is not None:
            await self.reader
            self.reader = None
        self.received.clear()


def route(path: str, query: dict[str, str]) -> dict:
    """The router data a page at `path?query` sends with its events."""
    as_path = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return {"pathname": path, "asPath": as_path, "query": query}


class WireUser(User):
    """A user whose watch phase speaks the websocket directly (WireTab) instead of through a browser: the same
    moves, clicks and page loads, each timed from the event leaving until the server's answer arrived."""

    def __init__(self, name: str, context, url: str) -> None:
        super().__init__(name, context, url)
        self.cookies: list = []  # the browser context's, kept while it is closed
        self.tab: WireTab | None = None
        self.run_id = ""

    async def leave_browser(self) -> None:
        """Keep the session cookie and close this user's browser context (signed up, uploaded, Run pressed)."""
        assert self.hello is not None, "the browser's connect frame was not seen"
        self.cookies = await self.context.cookies()
        await self.context.close()

    async def back_in_browser(self, browser) -> None:
        """A new context of `browser` with this user's session, for the checks after the watch phase."""
        self.context = await browser.new_context()
        await self.context.add_cookies(self.cookies)
        self.page = await self.context.new_page()
        self.page.set_default_timeout(600_000)

    async def watch_and_click(self, deadline: float) -> None:
        """As User.watch_and_click, over the wire (after `leave_browser`)."""
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in self.cookies)
        self.tab = WireTab(self.url, cookie, self.hello or {})
        self.run_id = self.run_url.split("id=")[1]
        passes = 0
        try:
            while time.monotonic() < deadline:
                if await self.wire_pass(passes):
                    break
                passes += 1
        finally:
            await self.tab.close()

    async def wire_pass(self, passes: int) -> bool:
        """One pass of the watch phase over the wire; whether the run has ended."""
        tab, run_query = self.tab, {"id": self.run_id}
        assert tab is not None, "watch_and_click opens the tab"
        if passes % 3 == 0:  # a full page load: the page's HTML, then a new websocket that hydrates
            start = time.perf_counter()
            await asyncio.to_thread(fetch, f"{self.url}/run?id={self.run_id}", tab.cookie)
            await tab.open("/run", run_query)
            arrived = await tab.answer(start, *RUN_STATE)
            self.page_loads.append((time.time(), (arrived or start + MOVE_TIMEOUT_S) - start))
            await paced(start, "page_load")
        else:
            sent = await tab.send(ON_LOAD, "/run", run_query)
            self.moved(sent, await tab.answer(sent, *RUN_STATE))
            await paced(sent, "move")
        await asyncio.sleep(0.1)
        place = tab.latest("queue_text")
        if place:
            self.queue_seen.append(place)
        if tab.latest("status") in ENDED:
            self.finished = self.finished or time.time()
            report = tab.latest("report_url")
            if report:  # the run page's frame loads the report
                await asyncio.to_thread(fetch, f"{self.url}{report}", tab.cookie)
        if self.everyone_done():
            return True
        sent = await tab.send(ON_LOAD, "/sample", {"name": SAMPLE})
        self.moved(sent, await tab.answer(sent, *SAMPLE_STATE))
        await paced(sent, "move")
        for click in range(4):
            handler = SAMPLE_HANDLER + ("select_none" if click % 2 else "select_all")
            sent = await tab.send(handler, "/sample", {"name": SAMPLE})
            arrived = await tab.answer(sent, SAMPLE_STATE[0], timeout_s=30)
            took = (arrived - sent) if arrived is not None else 30.0
            self.round_trips.append((time.time(), took))
            await paced(sent, "round_trip")
        return False

    def moved(self, sent: float, arrived: float | None) -> None:
        """Record one in-app move over the wire (a stuck one counts as MOVE_TIMEOUT_S)."""
        if arrived is None:
            self.stuck += 1
            self.stuck_details.append({"wire": True, "run": self.run_id})
        took = MOVE_TIMEOUT_S if arrived is None else arrived - sent
        self.navigations.append((time.time(), took))


async def paced(start: float, action: str) -> None:
    """Wait until `action`, begun at `start` (perf_counter), has taken at least its WIRE_PACE_S."""
    await asyncio.sleep(max(0.0, start + WIRE_PACE_S[action] - time.perf_counter()))


def fetch(url: str, cookie: str) -> int:
    """GET `url` (a page's HTML, a report) as the browser does, with the session cookie; the bytes read."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=MOVE_TIMEOUT_S) as answer:
        return len(answer.read())


def chromium_at(niceness: int) -> str:
    """The Chromium to launch: as installed, or (niceness > 0) through a script that lowers its priority and that
    of every process it starts, so the browsers - which on a real deployment run on the users' own machines -
    take the CPU only when the server does not want it."""
    if niceness <= 0:
        return CHROMIUM
    script = OUT.parent / f"chromium-nice-{niceness}"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f'#!/bin/sh\nexec nice -n {niceness} {shlex.quote(str(CHROMIUM))} "$@"\n')
    script.chmod(0o755)
    return str(script)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the app (its processes and the runs they started and waited for), the
    browsers, and everything else on the machine."""
    import psutil

    used: dict[str, float] = {"app": 0.0, "browsers": 0.0, "other": 0.0}
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            seconds = times.user + times.system + times.children_user + times.children_system
            if proc.environ().get(MARKER):
                used["app"] += seconds
            elif "chrom" in " ".join(proc.info["cmdline"] or []):
                used["browsers"] += seconds
            else:
                used["other"] += seconds
    return used


async def run(args: argparse.Namespace, url: str) -> dict:
    """The whole scenario against a started app."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        # Each person has a browser of their own (as people do): one Chromium each, not tabs of one browser,
        # whose single browser process would carry every user's traffic and rendering queue.
        # Users over the wire sign up, upload and press Run as contexts of one more Chromium, closed for the watch
        # phase (they come back in a new one for the checks).
        in_browsers = min(args.users, args.users if args.browser_users is None else args.browser_users)
        browsers = [
            await p.chromium.launch(
                executable_path=chromium_at(args.browsers_nice), args=CHROMIUM_ARGS, headless=True
            )
            for _ in range(1 if args.one_browser else in_browsers + (in_browsers < args.users))
        ]
        users = [
            (User if i < in_browsers else WireUser)(
                f"user{i:02d}", await browsers[min(i, len(browsers) - 1)].new_context(), url
            )
            for i in range(args.users)
        ]
        for user in users:
            user.everyone = users
        note(f"{args.users} users sign up and upload chr21")
        for user in users:  # uploads one after another, as people arrive
            await user.join()
        note("everyone presses Run at once")
        await asyncio.gather(*(user.launch() for user in users))
        launched = time.time()
        wire = [u for u in users if isinstance(u, WireUser)]
        for user in wire:
            await user.leave_browser()
        if wire and not args.one_browser:  # the Chromium they used is left without a page: close it
            await browsers.pop().close()
        cpu_before, wall_before = cpu_seconds(), time.monotonic()
        deadline = time.monotonic() + args.max_seconds
        await asyncio.gather(*(user.watch_and_click(deadline) for user in users))
        all_done = time.time()
        cpu_after, wall = cpu_seconds(), time.monotonic() - wall_before
        note("checking reports and privacy")
        if wire:
            browsers.append(
                await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            )
            for user in wire:
                await user.back_in_browser(browsers[-1])
        for i, user in enumerate(users):
            await user.check([users[(i + 1) % len(users)].run_url])
        for browser in browsers:
            await browser.close()
    in_page = [u for u in users if not isinstance(u, WireUser)]
    return {
        "users": args.users,
        "users_in_a_browser": len(in_page),
        "all_runs_done_s": round(all_done - launched, 1),
        "run_click_to_done_s": sorted(round(u.finished - u.started, 1) for u in users),
        **figures(in_page, ""),
        **(figures(wire, "wire_") if wire else {}),
        "in_app_moves_stuck": sum(u.stuck for u in users),
        "stuck_details": [d for u in users for d in u.stuck_details],
        "cores_used_while_running": {
            group: round((cpu_after.get(group, 0.0) - cpu_before.get(group, 0.0)) / wall, 2)
            for group in sorted(cpu_after)
        },
        "queue_positions_seen": sorted({q for u in users for q in u.queue_seen}),
        "users_that_saw_a_queue_position": sum(bool(u.queue_seen) for u in users),
        "reports_correct": sum(u.report_ok for u in users),
        "private": sum(u.private_ok for u in users),
    }


def figures(users: Sequence[User], prefix: str) -> dict[str, dict[str, float | int]]:
    """The timing summaries of `users`, keys prefixed (browser users: as the page saw them; wire users: the
    server's answer times)."""
    found = {
        "round_trip": summary([s for u in users for _, s in u.round_trips]),
        "round_trip_server_share": summary([s for u in users for s in u.round_trip_server]),
        "navigation": summary([s for u in users for _, s in u.navigations]),
        "navigation_server_share": summary([s for u in users for s in u.navigation_server]),
        "navigation_before_send": summary([s for u in users for s in u.navigation_before_send]),
        "full_page_load": summary([s for u in users for _, s in u.page_loads]),
        # every move to another page, in-app or by loading it afresh
        "any_navigation": summary([s for u in users for _, s in u.navigations + u.page_loads]),
    }
    if prefix:  # over the wire, the whole time is the server's and nothing is drawn: no shares to show
        shown = ("round_trip", "navigation", "full_page_load", "any_navigation")
        found = {key: value for key, value in found.items() if key in shown}
    return {prefix + key: value for key, value in found.items()}


def main() -> int:
    """Start the app (prod by default), run the scenario, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--dev", action="store_true", help="dev mode (two ports) instead of the prod build")
    parser.add_argument(
        "--engines",
        action="store_true",
        help="PostgreSQL + Redis + 2 backend workers + Dagster's queue (JUST_DNA_RUN_MODE=queue) instead of the laptop set-up",
    )
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument(
        "--browsers-nice",
        type=int,
        default=0,
        help="run the browsers at this niceness (e.g. 10, the runs' own), as if they were on other machines",
    )
    parser.add_argument(
        "--browser-users",
        type=int,
        default=None,
        help="only this many users watch in a browser; the others speak the websocket directly (default: all)",
    )
    parser.add_argument(
        "--one-browser",
        action="store_true",
        help="all users as contexts of one Chromium (the earlier set-up)",
    )
    args = parser.parse_args()
    if args.engines and args.dev:
        parser.error("--engines runs two backend workers, which needs the prod build (drop --dev)")
    out = OUT.with_name(OUT.name + "-engines") if args.engines else OUT
    env = fresh_app_env(out)
    mode = "dev" if args.dev else "prod"
    with contextlib.ExitStack() as stack:
        if args.engines:
            env.update(engines_env(stack, out))
            mode = "prod, PostgreSQL + Redis, 2 workers, queue"
        os.environ.update(env)
        results: dict[str, object] = {"machine": machine(), "mode": mode, "browsers_nice": args.browsers_nice}
        app = stack.enter_context(running_app(env, out / "app.log", prod=not args.dev, dagster=args.engines))
        note(f"app up at {app.url}" + (f", Dagster at {app.dagster_url}" if app.dagster_url else ""))
        results.update(asyncio.run(run(args, app.url)))
    results["machine_after"] = machine()
    print(json.dumps(results, indent=2))
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return 0


def engines_env(stack: contextlib.ExitStack, out: Path) -> dict[str, str]:
    """Start PostgreSQL and Redis (stopped when `stack` closes); the environment of the scale-out set-up on them."""
    from webui.engines import free_port, running_postgres, running_redis

    postgres = stack.enter_context(running_postgres(out / "postgres"))
    redis = stack.enter_context(running_redis(out / "redis"))
    note(f"PostgreSQL on {postgres.port}, Redis on {redis.port}")
    postgres.create_database("dagster")
    return {
        "DATABASE_URL": postgres.create_database("web"),
        "REDIS_URL": redis.url,
        "JUST_DNA_WEBUI_WORKERS": "2",
        "JUST_DNA_RUN_MODE": "queue",
        "DAGSTER_POSTGRES_URL": postgres.url("dagster", driver="postgresql+psycopg2"),
        "JUST_DNA_CODE_SERVER_PORT": str(free_port()),
        # A run process loads the definitions over gRPC; ten at once on 2 cores pass Dagster's 60 s default.
        "DAGSTER_GRPC_TIMEOUT_SECONDS": "300",
    }


if __name__ == "__main__":
    raise SystemExit(main())
