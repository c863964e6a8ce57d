"""A push gateway of the tests' own: it records what Synapse posts to it.

Synapse's HTTP pushers POST each notification to the pusher's `data.url`, which
must end in `/_matrix/push/v1/notify` (the Push Gateway API). This gateway listens
on plain HTTP on 127.0.0.1 (the harness lets Synapse push to loopback, see
`ip_range_whitelist` in synapse_harness.py), answers every notify with
`{"rejected": []}`, and keeps each posted `notification` object in order.

    with PushGateway() as gateway:
        pusher_url = gateway.url          # http://127.0.0.1:PORT/_matrix/push/v1/notify
        ...
        note = gateway.wait_for(lambda n: n.get("event_id") == event_id, timeout=30)

Standard library only. The Rust tests have the same gateway in
core/tests/support/push_gateway.rs.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

NOTIFY_PATH = "/_matrix/push/v1/notify"


class PushGateway:
    """A running gateway; `close()` (or leaving the `with` block) stops it."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._notifications: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path != NOTIFY_PATH:
                    self._answer(404, {"errcode": "M_UNRECOGNIZED"})
                    return
                try:
                    notification = json.loads(body).get("notification", {})
                except ValueError:
                    self._answer(400, {"errcode": "M_NOT_JSON"})
                    return
                with gateway._lock:
                    gateway._notifications.append(notification)
                    gateway._lock.notify_all()
                self._answer(200, {"rejected": []})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}{NOTIFY_PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="push-gateway", daemon=True
        )
        self._thread.start()

    def notifications(self) -> list[dict]:
        """Every `notification` posted so far, oldest first."""
        with self._lock:
            return list(self._notifications)

    def wait_for(self, matches: Callable[[dict], bool], timeout: float = 30.0) -> dict:
        """The first posted notification that `matches`, waiting up to `timeout`
        seconds for it; raises TimeoutError with what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for notification in self._notifications:
                    if matches(notification):
                        return notification
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"no matching push within {timeout} s; got {self._notifications}"
                    )
                self._lock.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "PushGateway":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
