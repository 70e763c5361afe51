"""The webhook receiver behind `dvcwatch alerts listen`: what Alertmanager would have told people.

Every notification is printed (one line per alert: state, name, receiver, Vietnamese summary) and
appended to a JSONL file with the time it arrived, so tests and benchmarks can measure the time from a
fault to the notification and check which receiver got what. Standard library only: it must start in
well under a second inside the stack.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 5_000_000


def summarize(record: dict[str, Any]) -> list[str]:
    """One human line per alert in a notification."""
    lines = []
    for alert in record.get("alerts", []):
        labels = alert.get("labels", {})
        ann = alert.get("annotations", {})
        where = ", ".join(f"{k}={labels[k]}" for k in ("service", "vantage", "target") if labels.get(k))
        lines.append(
            f"[{alert.get('status', '?'):8}] {labels.get('alertname', '?')}"
            f" ({labels.get('severity', '?')}, {labels.get('owner', '?')}) → {record.get('receiver', '?')}"
            f"{' · ' + where if where else ''}: {ann.get('summary_vi') or ann.get('summary_en', '')}"
        )
    return lines


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr access log
        pass

    def _reply(self, code: int, body: dict[str, Any] | list[Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path in ("/-/ready", "/-/healthy"):
            self._reply(200, {"status": "ok"})
        elif self.path == "/received":
            self._reply(200, self.server.records())
        else:
            self._reply(404, {"error": "POST notifications to any path; GET /received lists them"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self._reply(400, {"error": "expected a JSON body"})
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._reply(400, {"error": "body is not JSON"})
            return
        if not isinstance(payload, dict):
            self._reply(400, {"error": "expected a JSON object (Alertmanager webhook payload)"})
            return
        self.server.store(self.path, payload)
        self._reply(200, {"status": "stored"})


class WebhookServer(ThreadingHTTPServer):
    """Receives Alertmanager webhooks; `on_record` is called (under a lock) for each stored one."""

    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        out: Path | None,
        on_record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.out = out
        self.on_record = on_record
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def store(self, path: str, payload: dict[str, Any]) -> None:
        record = {
            "received_at": time.time(),
            "path": path,
            "receiver": payload.get("receiver"),
            "status": payload.get("status"),
            "group_labels": payload.get("groupLabels", {}),
            "alerts": payload.get("alerts", []),
        }
        with self._lock:
            self._records.append(record)
            if self.out:
                with self.out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            if self.on_record:
                self.on_record(record)

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The notifications a listener stored, skipping a line cut short by a crash."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
