#!/usr/bin/env python3
"""A small driver of headless Chromium over the DevTools protocol, for tests/browser.rs.

Usage: cdp.py PROFILE_DIR < steps.json

Chromium must already run with --remote-debugging-port=0 and --user-data-dir=PROFILE_DIR: the
port is read from PROFILE_DIR/DevToolsActivePort. The steps are a JSON array of objects, run in
order on the browser's first page; each prints one JSON line on stdout with its result:

  {"open": URL}                          navigate, wait for the load event
  {"click": SELECTOR}                    a real mouse click at the element's centre, then wait
                                         for the load of the page it leads to
  {"set_files": SELECTOR, "files": [P]}  DOM.setFileInputFiles on a file input
  {"submit": SELECTOR}                   click that submit button, wait for the next page; the
                                         result is the method, URL and Content-Type of the
                                         request the browser sent
  {"eval": JS}                           the value of a JS expression (JSON-serialisable)
  {"viewport": [W, H]}                   a phone-like viewport (mobile, touch)
  {"screenshot": PATH}                   a PNG of the viewport

Any failure (an exception in the page, a wait over TIMEOUT) exits 1 with the reason on stderr.
Needs `websockets` from PyPI (its synchronous client).
"""

import base64
import json
import os
import sys
import time
import urllib.request

from websockets.sync.client import connect

TIMEOUT = 15.0


class Page:
    """One page target: commands with ids, and the events that came meanwhile kept in order."""

    def __init__(self, ws_url):
        # Entered by hand: the connection lasts as long as the process.
        self.ws = connect(ws_url, max_size=64 << 20, open_timeout=TIMEOUT).__enter__()
        self.next_id = 0
        self.events = []
        for domain in ("Page", "Network", "Runtime", "DOM"):
            self.call(domain + ".enable")

    def call(self, method, **params):
        self.next_id += 1
        want = self.next_id
        self.ws.send(json.dumps({"id": want, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self._recv(deadline, method)
            if msg.get("id") == want:
                if "error" in msg:
                    fail(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name, what):
        """The first event `name` not yet taken, waiting for it if need be."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == name:
                    return self.events.pop(i)
            msg = self._recv(deadline, what)
            if "method" in msg:
                self.events.append(msg)

    def _recv(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"timed out waiting for {what}")
        try:
            return json.loads(self.ws.recv(timeout=left))
        except TimeoutError:
            fail(f"timed out waiting for {what}")

    def eval(self, js):
        r = self.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            fail(f"exception in {js!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def node(self, selector):
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            fail(f"no element matches {selector!r}")
        return node

    def click(self, selector):
        """Presses and releases the left button at the middle of the element, as a user would."""
        box = self.eval(
            "(() => { const e = document.querySelector(%s); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector)
        )
        if box is None:
            fail(f"no element matches {selector!r}")
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def loaded(self):
        self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]


def fail(reason):
    print(f"cdp.py: {reason}", file=sys.stderr)
    sys.exit(1)


def first_page(profile):
    """The websocket URL of the browser's first page, once its DevTools port is written."""
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + TIMEOUT
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if time.monotonic() > deadline:
            fail(f"no {port_file}: is Chromium running with --remote-debugging-port=0?")
        time.sleep(0.05)
    port = open(port_file).read().split()[0]
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        if time.monotonic() > deadline:
            fail("the browser has no page")
        time.sleep(0.05)


def run(page, step):
    if "open" in step:
        page.loaded()
        page.call("Page.navigate", url=step["open"])
        page.wait_event("Page.loadEventFired", f"the load of {step['open']}")
        return page.eval("location.href")
    if "click" in step:
        page.loaded()
        page.click(step["click"])
        page.wait_event("Page.loadEventFired", f"the page {step['click']!r} leads to")
        return page.eval("location.href")
    if "set_files" in step:
        files = [os.path.abspath(f) for f in step["files"]]
        page.call("DOM.setFileInputFiles", files=files, nodeId=page.node(step["set_files"]))
        return page.eval("document.querySelector(%s).files.length" % json.dumps(step["set_files"]))
    if "submit" in step:
        page.loaded()
        page.events = [e for e in page.events if e["method"] != "Network.requestWillBeSent"]
        page.click(step["submit"])
        while True:  # the form's own request, not a favicon's
            sent = page.wait_event("Network.requestWillBeSent", "the form's request")["params"]
            if sent.get("type") == "Document":
                break
        page.wait_event("Page.loadEventFired", "the page after the form")
        req = sent["request"]
        headers = {k.lower(): v for k, v in req.get("headers", {}).items()}
        return {
            "method": req["method"],
            "url": req["url"],
            "content_type": headers.get("content-type", ""),
            "now_at": page.eval("location.href"),
        }
    if "eval" in step:
        return page.eval(step["eval"])
    if "viewport" in step:
        w, h = step["viewport"]
        page.call("Emulation.setDeviceMetricsOverride", width=w, height=h,
                  deviceScaleFactor=2, mobile=True)
        page.call("Emulation.setTouchEmulationEnabled", enabled=True)
        return [w, h]
    if "screenshot" in step:
        png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        with open(step["screenshot"], "wb") as f:
            f.write(png)
        return len(png)
    fail(f"unknown step {step!r}")


def main():
    if len(sys.argv) != 2:
        fail("usage: cdp.py PROFILE_DIR < steps.json")
    steps = json.load(sys.stdin)
    page = Page(first_page(sys.argv[1]))
    for step in steps:
        print(json.dumps(run(page, step)), flush=True)


if __name__ == "__main__":
    main()
