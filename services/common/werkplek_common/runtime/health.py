"""A worker's health, as its probes see it, on its metrics port:

- `GET /healthz` (liveness): 200 while every part of the worker is alive, i.e. none has died and each
  loop has turned within `live_after` seconds; 503 otherwise (restart me).
- `GET /readyz` (readiness): 200 when every part is ready: joined its consumer group (or caught up,
  for a reader), its broker and database reachable, not just fenced, and its loop turned within
  `stuck_after` seconds; 503 with the reasons otherwise.
- anything else: the Prometheus metrics.

The server runs in a thread of its own, so it answers (and reports "stuck") even when the event
loop is blocked."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from . import metrics

log = logging.getLogger(__name__)
STUCK_AFTER_S = 120.0  # a loop that has not turned for this long is not ready
LIVE_AFTER_S = 600.0  # ... and for this long, not alive


@dataclass
class Part:
    """One loop of a worker (a consumer, a reader, a relay) as health sees it."""

    name: str
    stuck_after: float = STUCK_AFTER_S
    live_after: float = LIVE_AFTER_S
    clock: Callable[[], float] = time.monotonic
    reason: str = "starting"  # why it is not ready; "" when ready
    died: str = ""  # why it stopped for good; "" while alive
    beat_at: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.beat_at = self.clock()
        metrics.READY.labels(self.name).set(0)

    def beat(self) -> None:
        self.beat_at = self.clock()

    def ready(self) -> None:
        """Ready as of now; only the loop itself (`beat`) proves it is still turning."""
        if self.reason:
            log.info("ready", extra={"fields": {"part": self.name, "was": self.reason}})
        self.reason = ""
        metrics.READY.labels(self.name).set(1)

    def not_ready(self, reason: str) -> None:
        """Also a sign of life: what waits for the broker or rejoins is alive, not stuck."""
        self.beat()
        self.reason = reason
        metrics.READY.labels(self.name).set(0)

    def dead(self, reason: str) -> None:
        self.died = reason or "stopped"
        self.not_ready(f"dead: {self.died}")

    def status(self) -> dict[str, Any]:
        idle = self.clock() - self.beat_at
        why = self.died or self.reason or (f"stuck: no loop turn for {idle:.0f} s" if idle > self.stuck_after else "")
        return {"ready": not why, "alive": not self.died and idle <= self.live_after, "reason": why,
                "last_turn_s_ago": round(idle, 1)}


class Health:
    def __init__(self) -> None:
        self.parts: dict[str, Part] = {}

    def part(self, name: str, **kw: Any) -> Part:
        self.parts[name] = Part(name, **kw)
        return self.parts[name]

    def report(self) -> tuple[bool, bool, dict[str, Any]]:
        """(alive, ready, body)."""
        parts = {name: p.status() for name, p in self.parts.items()}
        alive = all(s["alive"] for s in parts.values())
        ready = bool(parts) and all(s["ready"] for s in parts.values())
        return alive, ready, {"alive": alive, "ready": ready, "parts": parts}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds are not news


def wsgi_app(health: Health | None) -> Callable[..., Iterable[bytes]]:
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in ("/healthz", "/readyz"):
            return metrics_app(environ, start_response)
        alive, ready, body = health.report() if health else (True, True, {"alive": True, "ready": True, "parts": {}})
        ok = alive if path == "/healthz" else ready
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


def serve(port: int, health: Health | None, addr: str = "0.0.0.0") -> WSGIServer:  # noqa: S104 - scraped in-cluster
    """Serve metrics and the probes on `port` from a daemon thread."""
    httpd = make_server(addr, port, wsgi_app(health), _Server, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, name=f"health:{port}", daemon=True).start()
    return httpd
