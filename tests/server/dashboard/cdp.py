"""A minimal Chrome DevTools Protocol client for the dashboard's browser test.

It starts Debian's headless `chromium` on a free DevTools port, attaches to its page over a
websocket (`websocket-client`, already installed as a dependency of `kubernetes`), and offers
what the test needs: navigate, evaluate JavaScript, wait for a condition, click, type, and
take a screenshot. No Playwright: it would want to download a browser of its own.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

from tests.processes import stop_process

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class CdpError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    """One headless chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary: str, profile: Path, *, width: int = 1280, height: int = 900) -> None:
        # --no-sandbox: CI runs as root, where chromium refuses its sandbox.
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            browser_ws = self._wait_listening(timeout=30)
            self.socket = websocket.create_connection(self._page_ws(browser_ws), timeout=30)
            for domain in ("Page.enable", "Runtime.enable"):
                self.send(domain)
        except BaseException:
            self.close()
            raise

    def _wait_listening(self, timeout: float) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                # Keep reading: a full stderr pipe would block chromium.
                threading.Thread(target=self._drain, daemon=True, name="chromium-stderr").start()
                return match.group(1)
        raise CdpError("chromium did not open its DevTools port:\n" + "".join(seen[-20:]))

    def _drain(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        try:
            for _ in stream:
                pass
        except (OSError, ValueError):  # closed by close()
            return

    @staticmethod
    def _page_ws(browser_ws: str) -> str:
        # The HTTP endpoint on the same port lists the targets; the page is the one to drive.
        http = browser_ws.replace("ws://", "http://").split("/devtools/")[0]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{http}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise CdpError("chromium shows no page target")

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        """Send one command and return its result (events received meanwhile are kept in `events`)."""
        self._next_id += 1
        ident = self._next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise CdpError(f"{method}: no answer in {timeout} s")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 15, what: str | None = None) -> Any:
        """Poll until the expression is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what or expression}")
            time.sleep(0.1)

    def goto(self, url: str) -> None:
        """Navigate and wait for the document to finish loading."""
        self.send("Page.navigate", {"url": url})
        self.wait_for(
            f"document.readyState === 'complete' && location.href === {json.dumps(url)}",
            what=f"load of {url}",
        )

    def add_init_script(self, source: str) -> None:
        """Run `source` in every document before its own scripts."""
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    def click(self, selector: str) -> None:
        """Click the element (a real DOM click: htmx sees the same event as from a mouse)."""
        self.wait_for(f"!!document.querySelector({json.dumps(selector)})", what=selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def type_into(self, selector: str, text: str) -> None:
        """Set an input's value as typing would (with an input event)."""
        self.wait_for(f"!!document.querySelector({json.dumps(selector)})", what=selector)
        self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.focus();"
            f" e.value = {json.dumps(text)}; e.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
        )

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the whole page."""
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def exceptions(self) -> list[str]:
        """Uncaught JavaScript exceptions the page threw so far."""
        return [
            json.dumps(e["params"]["exceptionDetails"])[:500]
            for e in self.events
            if e.get("method") == "Runtime.exceptionThrown"
        ]

    def close(self) -> None:
        """Close the connection and stop chromium."""
        sock = getattr(self, "socket", None)
        if sock is not None:
            sock.close()
        stop_process(self.process)
