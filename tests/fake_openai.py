"""A scripted OpenAI-compatible server on 127.0.0.1 for tests: ``reply(prompt_or_last_message) -> text``.

Serves ``/v1/completions`` (one choice per prompt) and ``/v1/chat/completions`` and records every request
body, so tests can drive ``--backend openai`` (also from subprocesses) without a model. ``fail_next = k`` answers
the next k requests with 503 (and ``retry-after-ms: 10``); ``reverse_choices`` lists completion choices in reverse
order (clients must match them by index).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedServer:
    def __init__(self, reply: Callable[[str], str], *, delay_s: float = 0.0, reverse_choices: bool = False) -> None:
        server = self
        self.reply, self.delay_s, self.reverse_choices, self.fail_next = reply, delay_s, reverse_choices, 0
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append((self.path, body))
                    fail = server.fail_next > 0
                    server.fail_next -= fail
                if fail:
                    self.send_response(503)
                    self.send_header("retry-after-ms", "10")  # the openai client honours it: fast retries
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                time.sleep(server.delay_s)
                if "chat" in self.path:
                    text = server.reply(body["messages"][-1]["content"])
                    resp = {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}]}
                else:
                    prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                    choices = [{"index": i, "text": server.reply(p), "finish_reason": "stop", "logprobs": None}
                               for i, p in enumerate(prompts)]
                    resp = {"id": "c", "object": "text_completion", "created": 0, "model": body["model"],
                            "choices": choices[::-1] if server.reverse_choices else choices}
                data = json.dumps(resp).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
