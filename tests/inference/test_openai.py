"""OpenAIBackend against a fake OpenAI-compatible server on 127.0.0.1: completions, chat, retries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lumos.formats.chat import Message
from lumos.inference import load_backend
from lumos.inference.openai import OpenAIBackend


class _Handler(BaseHTTPRequestHandler):
    fail_next = 0
    requests: list[tuple[str, dict]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        if type(self).fail_next > 0:
            type(self).fail_next -= 1
            self.send_response(503)
            self.send_header("retry-after-ms", "10")  # the openai client honours it: fast retries
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("/completions") and "chat" not in self.path:
            prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
            # answer out of order to check that choices are matched by index
            choices = [{"index": i, "text": f"Subgoal 1: row {i}.\nmore", "finish_reason": "stop", "logprobs": None}
                       for i in reversed(range(len(prompts)))]
            resp = {"id": "c", "object": "text_completion", "created": 0, "model": body["model"], "choices": choices}
        else:
            last = body["messages"][-1]["content"]
            resp = {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"], "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f" Answer: {last[:5]} "}}]}
        data = json.dumps(resp).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    _Handler.requests, _Handler.fail_next = [], 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_completions_batched_greedy_and_cut(server):
    b = OpenAIBackend("lumos_maths_plan_onetime", base_url=server, api_key="x", batch_size=2, max_retries=0)
    out = b.generate(["p0", "p1", "p2"], max_new_tokens=7)
    assert out == ["Subgoal 1: row 0.", "Subgoal 1: row 1.", "Subgoal 1: row 0."]
    bodies = [body for _, body in _Handler.requests]
    assert [len(body["prompt"]) for body in bodies] == [2, 1]
    assert bodies[0]["temperature"] == 0 and bodies[0]["max_tokens"] == 7 and bodies[0]["stop"] == ["\n"]


def test_chat_and_bounded_retries(server):
    b = load_backend("openai", "gpt-3.5-turbo", base_url=server, max_retries=1)
    _Handler.fail_next = 1
    assert b.chat([[Message("user", "Hello there")]]) == ["Answer: Hello"]
    assert len(_Handler.requests) == 2  # one failure, one retry
    _Handler.fail_next = 5
    with pytest.raises(Exception, match="503|Service Unavailable|Error code"):
        b.chat([[Message("user", "again")]])
    assert len(_Handler.requests) == 4  # gave up after 1 retry


def test_chat_api_for_the_modules_sends_messages_and_a_partial_assistant_turn(server):
    from lumos.agent.loop import AgentConfig, Request, _generate

    b = OpenAIBackend("lumos_unified_ground_iterative", base_url=server, api_key="x", api="chat", max_retries=0)
    reqs = [Request("ground", (Message("user", "Subgoal to be grounded: x"),), prefix="R1 = "),
            Request("plan", (Message("user", "Task: y"),))]
    outs = _generate(b, reqs, ["unused", "unused"], AgentConfig(formulation="lumos_iterative"))
    assert outs == [" Answer: R1 =  ", " Answer: Task: "]  # the fake server echoes the last message (uncut)
    (p1, first), (_, second) = _Handler.requests
    assert p1.endswith("/chat/completions") and first["messages"][-1] == {"role": "assistant", "content": "R1 = "}
    assert first["continue_final_message"] is True and first["add_generation_prompt"] is False
    assert "continue_final_message" not in second and second["stop"] == ["\n"] and second["temperature"] == 0
    assert b.describe() == {"kind": "openai", "model": "lumos_unified_ground_iterative",
                            "base_url": server + "/", "api": "chat"}
