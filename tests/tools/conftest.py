"""Fixtures for the tool tests: the fixture corpus, one shared sympy worker, a scripted chat backend,
and a fake Wikipedia on 127.0.0.1 serving recorded pages from ``tests/fixtures/tools/wiki``."""

from __future__ import annotations

import http.server
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from lumos.formats.actions import parse_actions
from lumos.tools.executor import execute_actions

TOOL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tools"


@pytest.fixture(scope="session")
def tool_fixtures() -> Path:
    return TOOL_FIXTURES


@pytest.fixture(scope="session")
def mini_corpus() -> Path:
    return TOOL_FIXTURES / "hotpot_mini.jsonl"


@pytest.fixture(scope="session")
def math_engine() -> Iterator:
    from lumos.tools.math import SympyEngine

    engine = SympyEngine(timeout_s=5.0)
    yield engine
    engine.close()


@pytest.fixture
def run_lines() -> Callable:
    """``run_lines(tools, "R1 = ...; R2 = ...", ...) -> (variables, results)`` with one variable table."""

    def run(tools, *lines: str, variables: dict | None = None, **context):
        variables = {} if variables is None else variables
        results = []
        for line in lines:
            results += execute_actions(parse_actions(line), tools, variables, **context)
        return variables, results

    return run


class ScriptedChat:
    """A chat backend for tests: replies from a list or a function; records every prompt."""

    def __init__(self, replies: Sequence[str] | Callable[[str], str], name: str = "scripted-chat") -> None:
        self.replies = replies
        self.name = name
        self.prompts: list[str] = []

    def generate(self, prompts, *, max_new_tokens=512, stop=("\n",)):
        raise AssertionError("tools must use chat(), not generate()")

    def chat(self, conversations, *, max_new_tokens=512):
        out = []
        for conv in conversations:
            assert len(conv) == 1 and conv[0].role == "user"
            prompt = conv[0].content
            self.prompts.append(prompt)
            if callable(self.replies):
                out.append(self.replies(prompt))
            else:
                out.append(self.replies[len(self.prompts) - 1])
        return out


@pytest.fixture
def scripted_chat() -> type[ScriptedChat]:
    return ScriptedChat


class _WikiHandler(http.server.BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}
    log: list[str] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.log.append(self.path + " UA=" + self.headers.get("User-Agent", ""))
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/w/index.php":
            term = urllib.parse.parse_qs(url.query).get("search", [""])[0]
            page = term.replace(" ", "_")
            if page in self.pages:  # Wikipedia's "go to the article" redirect
                return self._send(302, location="/wiki/" + urllib.parse.quote(page))
            return self._send(200, self.pages["search_first_programmer"])
        if url.path.startswith("/wiki/"):
            page = urllib.parse.unquote(url.path[len("/wiki/") :])
            if page in self.pages:
                return self._send(200, self.pages[page])
        return self._send(404, b"<html><body><p>Not found</p></body></html>")


@pytest.fixture(scope="session")
def fake_wikipedia() -> Iterator[tuple[str, list[str]]]:
    """(base URL, request log) of a local fake Wikipedia."""
    _WikiHandler.pages = {p.stem: p.read_bytes() for p in (TOOL_FIXTURES / "wiki").glob("*.html")}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WikiHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _WikiHandler.log
    server.shutdown()
    server.server_close()


@pytest.fixture
def listening_port():
    """A TCP listener on 127.0.0.1 recording what connects, and a bound UDP socket: ``(port, udp, accepted)``."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    accepted: list[tuple] = []
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, addr = server.accept()
                accepted.append(addr)
                conn.close()
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    yield server.getsockname()[1], udp, accepted
    stop.set()
    t.join()
    server.close()
    udp.close()
