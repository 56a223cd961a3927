"""Load a page in a real headless Chromium over the DevTools protocol (a pipe, no port).

Collects what a person opening the page would hit: console errors, uncaught exceptions,
failed loads and every network request, plus the rendered text and a screenshot.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
    "--window-size=1280,900",
]


def chromium():
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Pipe:
    def __init__(self, write_fd, read_fd):
        self.write_fd, self.read_fd = write_fd, read_fd
        self.buffer = b""
        self.events = []
        self.next_id = 0

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def call(self, method, params=None, session=None, deadline=60.0):
        wanted = self.send(method, params, session)
        stop = time.monotonic() + deadline
        while True:
            while b"\0" not in self.buffer:
                if time.monotonic() > stop:
                    raise TimeoutError(f"no answer to {method}")
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"the browser closed the pipe during {method}")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            message = json.loads(raw)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)


def load_page(path, timeout=60.0, evaluate=None):
    """Open ``path`` and return ``(text, png_bytes, problems, requests)``.

    ``problems`` lists console errors and warnings, uncaught exceptions and failed
    loads; ``requests`` lists every URL the page asked for (the page itself included).
    With ``evaluate`` (a list of JavaScript expressions), a fifth item: their values
    in the loaded page (DevTools evaluates them, awaiting a promise's value; the page's
    own policy allows no script).
    """
    binary = chromium()
    to_browser, from_us = os.pipe()
    to_us, from_browser = os.pipe()
    profile = tempfile.mkdtemp(prefix="stp-chromium-")

    def wire():
        os.dup2(to_browser, 3)
        os.dup2(from_browser, 4)

    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        pass_fds=(3, 4),
        preexec_fn=wire,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_browser)
    os.close(from_browser)
    pipe = _Pipe(from_us, to_us)
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(f"{domain}.enable", session=session)
        pipe.call("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        stop = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in pipe.events):
            if time.monotonic() > stop:
                raise TimeoutError(f"{path} did not finish loading")
            pipe.call("Runtime.evaluate", {"expression": "1"}, session=session)
            time.sleep(0.05)
        values = [
            pipe.call(
                "Runtime.evaluate",
                {"expression": expression, "returnByValue": True, "awaitPromise": True},
                session=session,
            )["result"].get("value")
            for expression in ["document.body.innerText", *(evaluate or ())]
        ]
        text = values.pop(0)
        size = pipe.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = pipe.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=session,
        )["data"]
        try:
            pipe.call("Browser.close", deadline=10)
        except (RuntimeError, TimeoutError):
            pass
    finally:
        os.close(from_us)
        os.close(to_us)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
    problems, requests = [], []
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "warning",
            "assert",
        ):
            values = [a.get("value", a.get("description")) for a in params["args"]]
            problems.append(f"console.{params['type']}: {values}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        elif method == "Network.loadingFailed":
            problems.append(f"load failed: {params.get('errorText')}")
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
    if evaluate is not None:
        return text, base64.b64decode(shot), problems, requests, values
    return text, base64.b64decode(shot), problems, requests
