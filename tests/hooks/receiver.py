"""A webhook receiver in its own process, for the outgoing-webhook tests: it verifies
each delivery with the ``standardwebhooks`` package (not Laurel's code), appends one JSON
line per delivery to a log file and answers 204 (or ``--status``).

    python -m tests.hooks.receiver PORT SECRET LOG [--status 500]
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def serve(port: int, secret: str, log: str, status: int) -> None:
    verifier = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            line: dict[str, Any] = {"id": headers.get("webhook-id"), "verified": True}
            try:
                payload = verifier.verify(body, headers)
                line["type"] = payload.get("type")
            except WebhookVerificationError as exc:
                line.update(verified=False, error=str(exc))
            with open(log, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("secret")
    parser.add_argument("log")
    parser.add_argument("--status", type=int, default=204)
    given = parser.parse_args()
    serve(given.port, given.secret, given.log, given.status)
