"""The openai backend against a fake OpenAI-compatible server on 127.0.0.1 that answers some requests with 429
(Retry-After), 500 or too slowly: a conversion run killed with SIGKILL mid-way and rerun ends with every input
converted exactly once, each with its own answer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conv_fake_openai import FakeOpenAI, answer_for

from lumos.conversion.openai_backend import (
    FatalRequestError,
    OpenAIConfig,
    RequestFailed,
    complete,
    make_client,
    retry_after_seconds,
)

REPO = Path(__file__).resolve().parents[2]
N = 30


def _index(task: str) -> int:
    return int(task.split()[1].rstrip(":"))


def flaky(task: str, attempt: int) -> str:
    """429 / 500 / too slow on the first attempt for some tasks; task 7 fails twice."""
    i = _index(task)
    if i == 7:
        return "500" if attempt <= 2 else "ok"
    if attempt == 1:
        return {1: "429", 2: "500", 3: "slow"}.get(i % 5, "ok")
    return "ok"


def write_input(path: Path) -> list[str]:
    tasks = [f"Problem {i}: Ann has {i} apples and buys 1 more. How many apples does she have?" for i in range(N)]
    path.write_text("".join(json.dumps({"question": t, "answer": f"{i} + 1 = <<{i}+1={i + 1}>>{i + 1}\n#### {i + 1}"}) + "\n"
                            for i, t in enumerate(tasks)))
    return tasks


def command(data: Path, out: Path, base_url: str) -> list[str]:
    return [sys.executable, "-m", "data.prompt_convertion", "--domain", "maths", "--data_fn", str(data), "--convert_all",
            "--backend", "openai", "--model", "fake-gpt", "--base_url", base_url, "--concurrency", "3",
            "--max_retries", "2", "--timeout", "0.5", "--retry_wait", "0.05", "--output", str(out)]


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path):
    data, out = tmp_path / "gsm8k_resume.jsonl", tmp_path / "converted" / "gsm8k_resume_converted.json"
    tasks = write_input(data)
    env = {**os.environ, "OPENAI_API_KEY": "test-key", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    with FakeOpenAI(flaky, ok_delay=0.1, slow_seconds=2.0) as server:
        proc = subprocess.Popen(command(data, out, server.base_url), cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while len(lines(out)) < 8 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the first run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = lines(out)
        assert 8 <= len(first) < N
        with out.open("a") as f:  # what a kill in the middle of a write would leave
            f.write('{"id": "gsm8k:gsm8k_resume:29", "source": "gsm8k", "task": "Prob')

        second = subprocess.run(command(data, out, server.base_url), cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "removing a truncated last line" in second.stderr
        stats = dict(server.stats)

    records = lines(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == N
    assert set(ids) == {f"gsm8k:gsm8k_resume:{i}" for i in range(N)}
    for r in records:
        i = int(r["id"].rsplit(":", 1)[1])
        assert r["task"] == tasks[i] and r["subgoal_plan"] == answer_for(tasks[i]) and r["ans"] == str(i + 1)
    assert not (out.parent / (out.name + ".failed.jsonl")).exists()
    assert stats.get("429", 0) > 0 and stats.get("500", 0) >= 3 and stats.get("slow", 0) > 0
    metrics = json.loads((out.parent / (out.name + ".metrics.json")).read_text())
    assert metrics["records_in_output"] == N and metrics["counts"]["prompt_tokens"] > 0
    assert "\"api_key\"" not in json.dumps(metrics["config"])  # the variable name (api_key_env) may be recorded, never the key


def test_retries_are_bounded_and_failures_recorded(tmp_path):
    data, out = tmp_path / "gsm8k_bounded.jsonl", tmp_path / "out.json"
    write_input(data)
    env = {**os.environ, "OPENAI_API_KEY": "test-key"}

    def always_500_for_4(task: str, attempt: int) -> str:
        return "500" if _index(task) == 4 else "ok"

    with FakeOpenAI(always_500_for_4) as server:
        run = subprocess.run(command(data, out, server.base_url), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        attempts_for_4 = next(n for t, n in server.attempts.items() if _index(t) == 4)
    assert run.returncode == 0, run.stderr[-2000:]
    assert attempts_for_4 == 3  # 1 + --max_retries 2
    assert len(lines(out)) == N - 1
    [failed] = lines(out.parent / (out.name + ".failed.jsonl"))
    assert failed["id"] == "gsm8k:gsm8k_bounded:4" and failed["reason"].startswith("HTTP 500")


def test_complete_honours_retry_after_and_stops_on_auth_errors():
    cfg = OpenAIConfig(model="m", base_url=None, max_retries=3, timeout=2.0, backoff_base=5.0)
    messages = [{"role": "user", "content": "Task: Problem 1: x\n\nNatural language plan: p\n\n"}]

    def rate_limited_once(task: str, attempt: int) -> str:
        return "429" if attempt == 1 else "ok"

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    with FakeOpenAI(rate_limited_once, retry_after="0.1") as server:
        client = make_client(OpenAIConfig(base_url=server.base_url))
        comp = asyncio.run(complete(client, messages, cfg, sleep=record))
    assert comp.attempts == 2 and comp.text == answer_for("Problem 1: x")
    assert waits == [0.1]  # the server's Retry-After, not the 2.5-5 s backoff

    with FakeOpenAI(lambda task, attempt: "401") as server, pytest.raises(FatalRequestError, match="401"):
        asyncio.run(complete(make_client(OpenAIConfig(base_url=server.base_url)), messages, cfg))

    waits.clear()
    with FakeOpenAI(lambda task, attempt: "500") as server, pytest.raises(RequestFailed, match="after 3 attempts"):
        asyncio.run(complete(make_client(OpenAIConfig(base_url=server.base_url)), messages,
                             OpenAIConfig(model="m", max_retries=2, backoff_base=4.0), sleep=record))
    assert len(waits) == 2 and 2.0 <= waits[0] <= 4.0 and 4.0 <= waits[1] <= 8.0  # exponential backoff


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after_seconds({"retry-after": "soon"}) is None and retry_after_seconds({}) is None
