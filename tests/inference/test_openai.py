"""OpenAIBackend against a fake OpenAI-compatible server on 127.0.0.1: completions, chat, retries."""

from __future__ import annotations

import pytest
from fake_openai import ScriptedServer

from lumos.formats.chat import Message
from lumos.inference import load_backend
from lumos.inference.openai import OpenAIBackend


def _reply(text: str) -> str:
    """Completions: ``Subgoal 1: row <i>.`` for prompt ``p<i>`` (then more text); chat: echo the message's start."""
    if text.startswith("p") and text[1:].isdigit():
        return f"Subgoal 1: row {text[1:]}.\nmore"
    return f" Answer: {text[:5]} "


@pytest.fixture
def fake():
    srv = ScriptedServer(_reply, reverse_choices=True)  # answers out of order: choices must be matched by index
    yield srv
    srv.close()


@pytest.fixture
def server(fake):
    return fake.url


def test_completions_batched_greedy_and_cut(server, fake):
    b = OpenAIBackend("lumos_maths_plan_onetime", base_url=server, api_key="x", batch_size=2, max_retries=0)
    out = b.generate(["p0", "p1", "p2"], max_new_tokens=7)
    assert out == ["Subgoal 1: row 0.", "Subgoal 1: row 1.", "Subgoal 1: row 2."]
    bodies = [body for _, body in fake.requests]
    assert [len(body["prompt"]) for body in bodies] == [2, 1]
    assert bodies[0]["temperature"] == 0 and bodies[0]["max_tokens"] == 7 and bodies[0]["stop"] == ["\n"]


def test_chat_and_bounded_retries(server, fake):
    b = load_backend("openai", "gpt-3.5-turbo", base_url=server, max_retries=1)
    fake.fail_next = 1
    assert b.chat([[Message("user", "Hello there")]]) == ["Answer: Hello"]
    assert len(fake.requests) == 2  # one failure, one retry
    fake.fail_next = 5
    with pytest.raises(Exception, match="503|Service Unavailable|Error code"):
        b.chat([[Message("user", "again")]])
    assert len(fake.requests) == 4  # gave up after 1 retry


def test_chat_api_for_the_modules_sends_messages_and_a_partial_assistant_turn(server, fake):
    from lumos.agent.loop import AgentConfig, Request, _generate

    b = OpenAIBackend("lumos_unified_ground_iterative", base_url=server, api_key="x", api="chat", max_retries=0)
    reqs = [Request("ground", (Message("user", "Subgoal to be grounded: x"),), prefix="R1 = "),
            Request("plan", (Message("user", "Task: y"),))]
    outs = _generate(b, reqs, ["unused", "unused"], AgentConfig(formulation="lumos_iterative"))
    assert outs == [" Answer: R1 =  ", " Answer: Task: "]  # the fake server echoes the last message (uncut)
    (p1, first), (_, second) = fake.requests
    assert p1.endswith("/chat/completions") and first["messages"][-1] == {"role": "assistant", "content": "R1 = "}
    assert first["continue_final_message"] is True and first["add_generation_prompt"] is False
    assert "continue_final_message" not in second and second["stop"] == ["\n"] and second["temperature"] == 0
    assert b.describe() == {"kind": "openai", "model": "lumos_unified_ground_iterative",
                            "base_url": server + "/", "api": "chat"}
