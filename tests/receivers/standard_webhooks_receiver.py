"""A webhook receiver on loopback that verifies every delivery with the
Standard Webhooks library from PyPI (`standardwebhooks`), not the inbox's
own code. The end-to-end tests start it, point an endpoint at it and read
back what it saw.

    python3 standard_webhooks_receiver.py [PORT]

prints `receiver: listening on http://127.0.0.1:<port>` and serves:

- `POST /hook/<anything>`: a delivery. Verified with the secret set by
  `/_control`; a delivery that does not verify is answered 400. Then, while
  `fail` is above zero, answered `fail_status` (and `fail` counts down);
  otherwise, after `delay_ms`, answered 200 with the `answer` body (`{}`
  unless set: a webhook AI agent answers `{"reply": {"body": "…"}}` there).
- `POST /_control` `{"secret", "fail", "fail_status", "delay_ms", "answer"}` (any subset).
- `GET /_log`: `{"attempts": [{"webhook_id", "verified", "status", "type"}],
  "events": [the verified payloads answered 2xx, deduplicated by webhook-id,
  in arrival order]}`.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

lock = threading.Lock()
state = {"secret": None, "fail": 0, "fail_status": 500, "delay_ms": 0, "answer": {}}
attempts = []
events = []
seen_ids = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/_log":
            return self.answer(404)
        with lock:
            body = json.dumps({"attempts": attempts, "events": events}).encode()
        self.answer(200, body)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        data = self.rfile.read(length)
        if self.path == "/_control":
            with lock:
                state.update(json.loads(data or b"{}"))
            return self.answer(204)
        if not self.path.startswith("/hook/"):
            return self.answer(404)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            secret = state["secret"]
        try:
            payload = Webhook(secret).verify(data, headers)
            verified = True
        except Exception:  # any failure to verify, a missing secret included
            payload, verified = None, False
        webhook_id = headers.get("webhook-id")
        with lock:
            if not verified:
                status = 400
            elif state["fail"] > 0:
                state["fail"] -= 1
                status = state["fail_status"]
            else:
                status = 200
            delay = state["delay_ms"] / 1000.0
            answer = json.dumps(state["answer"] if status == 200 else {}).encode()
        if status == 200 and delay:
            time.sleep(delay)
        with lock:
            attempts.append({
                "webhook_id": webhook_id,
                "verified": verified,
                "status": status,
                "type": payload.get("type") if payload else None,
            })
            if status == 200 and webhook_id not in seen_ids:
                seen_ids.add(webhook_id)
                events.append(payload)
        self.answer(status, answer)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"receiver: listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
