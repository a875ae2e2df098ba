"""A fake OpenAI-compatible chat server on 127.0.0.1 for the conversion tests (tests only).

Each request's task is read from the conversion prompt (the text after the last ``Task: ``). ``behaviour(task,
attempt)`` decides per attempt: ``"ok"``, ``"429"`` (with ``Retry-After``), ``"500"``, ``"slow"`` (answers after
``slow_seconds``, longer than the client's timeout) or ``"401"``. A successful answer is a one-subgoal plan that
names the task, so every converted record can be checked against its own input.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def task_of(body: dict[str, Any]) -> str:
    user = body["messages"][-1]["content"]
    return user.rsplit("Task: ", 1)[1].split("\n\nNatural language plan:", 1)[0]


def answer_for(task: str) -> str:
    return f"Subgoal 1: Solve the task <{task}>.\nAction 1-1: R1 = Calculator(1 + 1) = 2"


class FakeOpenAI:
    """``with FakeOpenAI(behaviour) as server: ... server.base_url``; ``server.stats`` counts responses by kind."""

    def __init__(self, behaviour: Callable[[str, int], str], *, ok_delay: float = 0.0, slow_seconds: float = 3.0,
                 retry_after: str = "0.05") -> None:
        self.behaviour = behaviour
        self.ok_delay = ok_delay
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.attempts: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                task = task_of(body)
                with server.lock:
                    server.attempts[task] += 1
                    kind = server.behaviour(task, server.attempts[task])
                    server.stats[kind] += 1
                error = {"error": {"message": f"fake {kind}", "type": "fake", "code": kind}}
                if kind == "429":
                    self._send(429, error, {"Retry-After": server.retry_after})
                elif kind == "500":
                    self._send(500, error)
                elif kind == "401":
                    self._send(401, error)
                else:
                    time.sleep(server.slow_seconds if kind == "slow" else server.ok_delay)
                    self._send(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": answer_for(task)}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                    })

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
