"""Every registered benchmark end to end on its 2 fixture examples: scripted modules, the real tools
(sympy maths; BM25 over a 4-paragraph corpus + a scripted QA model), predictions.jsonl with trajectories,
a valid metrics.json, and a rerun that adds no duplicates."""

from __future__ import annotations

import json
import re

import pytest
from tiny_models import FIXTURES

from lumos.benchmarks import benchmark_names
from lumos.config import parse_eval_args
from lumos.evaluate import evaluate
from lumos.inference.scripted import ScriptedBackend
from lumos.utils.io import read_jsonl

CORPUS = FIXTURES / "eval" / "hotpotqa" / "corpus.jsonl"

# question keyword -> (one-time plan, one-time grounding); iterative runs use the first subgoal / action
MATHS = {
    "Tom has": ("Subgoal 1: Multiply boxes by pens.", "R1 = Calculator(3 * 4)"),
    "apples": ("Subgoal 1: Add the apples.", "R1 = Calculator(1200 + 300)"),
    "marbles": ("Subgoal 1: Subtract.", "R1 = Calculator(9 - 4)"),
    "oranges": ("Subgoal 1: Multiply.", "R1 = Calculator(6 * 7)"),
}
QA = {
    "river": ("Subgoal 1: Find the river of the capital.",
              "R1 = KnowledgeQuery(Fredville); R2 = ParagraphRetrieve(R1, Query: Which river flows through Fredville?); "
              "R3 = QA([R2], Question: Which river flows through Fredville?)"),
    "Alice": ("Subgoal 1: Compare birth countries.",
              "R1 = KnowledgeQuery(Alice Example); R2 = QA([R1], Question: Were they born in the same country?)"),
    "cat": ("Subgoal 1: Compare speeds.", "R1 = QA([], Question: Is a cat faster than a snail?)"),
    "goldfish": ("Subgoal 1: Check.", "R1 = KnowledgeQuery(Goldfish tree)"),
}
QA_REPLIES = {"river": "Answer: the Silver River", "same country": "Answer: no", "cat": "Answer: Yes"}


def _task(prompt: str) -> str:
    return re.search(r"Task: (.*?)(?:; Initial| \n)", prompt).group(1)


def _script(table, part, formulation):
    def respond(prompt: str) -> str:
        key = next(k for k in table if k in _task(prompt))
        if formulation == "lumos_iterative" and part == 0 and prompt.count("<|assistant|>") > 1:
            return "Yes, I will stop planning."
        return table[key][part]

    return respond


def _qa_reply(question: str) -> str:
    return next((v for k, v in QA_REPLIES.items() if k in question), "No answer")


FORMULATION = {"gsm": "lumos_onetime", "svamp": "lumos_iterative", "hotpotqa": "lumos_iterative",
               "strategyqa": "lumos_onetime"}
EXPECTED = {"gsm": {"acc": 1.0}, "svamp": {"acc": 1.0}, "hotpotqa": {"em": 1.0, "f1": 1.0},
            "strategyqa": {"acc": 0.5}}


def _run(bench, tmp_path, extra=()):
    formulation = FORMULATION[bench]
    table = MATHS if bench in ("gsm", "svamp") else QA
    planner = ScriptedBackend(_script(table, 0, formulation))
    grounder = ScriptedBackend(_script(table, 1, formulation))
    qa = ScriptedBackend([], chat_responses=_qa_reply)
    config, *_ = parse_eval_args([
        "--data_dir", str(FIXTURES / "eval" / bench), "--save_dir", str(tmp_path / bench), "--formulation", formulation,
        "--plan_model", "scripted-plan", "--ground_model", "scripted-ground", "--corpus", str(CORPUS),
        "--retriever", "bm25", "--eval_batch_size", "2", *extra], benchmark=bench)
    return evaluate(config, planner=planner, grounder=grounder, qa=qa), planner


def test_all_four_registered():
    assert set(FORMULATION) <= set(benchmark_names())


@pytest.mark.parametrize("bench", sorted(FORMULATION))
def test_benchmark_end_to_end_and_resume(bench, tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path / "cache"))
    result, planner = _run(bench, tmp_path)
    preds = read_jsonl(tmp_path / bench / "predictions.jsonl")
    assert len(preds) == 2 and all(p["trajectory"]["steps"] for p in preds)
    assert all(p["trajectory"]["steps"][0]["plan_prompt"].startswith(
        "<|user|>\nPlease provide a reasonable subgoal-based plan to solve the given task.\nTask: ") for p in preds)
    metrics = json.loads((tmp_path / bench / "metrics.json").read_text())
    assert metrics["n"] == 2 and metrics["metrics"] == pytest.approx(EXPECTED[bench])
    assert sum(metrics["status_counts"].values()) == 2 and metrics["seed"] == 42 and metrics["backend"] == "hf"
    assert "git_commit" in metrics and metrics["config"]["formulation"] == FORMULATION[bench]
    assert metrics["ran"]["tools"]["retriever"] == "bm25" and metrics["ran"]["driver"] == "batched"
    assert set(metrics["ci95"]) == set(EXPECTED[bench]) and all(c["method"] == "wilson" or name == "f1"
                                                                for name, c in metrics["ci95"].items())
    # rerun: nothing left to do, no duplicate lines, same metrics
    again, planner2 = _run(bench, tmp_path)
    assert planner2.calls == [] and len(read_jsonl(tmp_path / bench / "predictions.jsonl")) == 2
    assert again["metrics"] == metrics["metrics"] and again["ran"] == metrics["ran"]


def test_strategyqa_failure_counts_wrong_and_overlap_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path / "cache"))
    result, _ = _run("strategyqa", tmp_path)
    preds = {p["question"]: p for p in read_jsonl(tmp_path / "strategyqa" / "predictions.jsonl")}
    failed = preds["Can a goldfish climb a tree?"]
    assert failed["status"] == "tool_error" and failed["prediction"] is None and failed["scores"]["acc"] == 0.0
    assert result["info"]["train_overlap"]["n_in_train"] == 1 and result["info"]["selected_in_train"] == 1


def test_resume_after_a_killed_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path / "cache"))
    _run("gsm", tmp_path, ["--max_num_examples", "1"])
    path = tmp_path / "gsm" / "predictions.jsonl"
    with path.open("a") as f:
        f.write('{"id": "1", "quest')  # a half-written line
    result, planner = _run("gsm", tmp_path)
    ids = [p["id"] for p in read_jsonl(path)]
    assert ids == ["0", "1"] and len(planner.calls) == 1 and result["n"] == 2


def test_final_answer_by_the_qa_model_as_the_original(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path / "cache"))
    result, _ = _run("hotpotqa", tmp_path, ["--final_answer", "qa"])
    preds = {p["question"]: p for p in read_jsonl(tmp_path / "hotpotqa" / "predictions.jsonl")}
    river = next(p for q, p in preds.items() if "river" in q)
    prompts = river["trajectory"]["env_info"]["final_answer_prompts"]
    # the task's own question, over the trajectory's "Question: ...; Answer: ..." results
    assert f"Question: {river['question']}\nContext: Question: Which river flows through Fredville?; " in prompts[0]
    assert river["prediction"] == "the Silver River" and result["metrics"]["em"] == 1.0
