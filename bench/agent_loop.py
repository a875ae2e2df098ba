"""Benchmark the agent loop: (1) the eval's wall time against the same generations alone (overhead ratio,
goal <= 1.15), (2) hf vs vllm on the same batch of plan prompts (goal >= 2x at batch 16; only where
``import vllm`` works, i.e. under ``.venv-vllm/bin/python``) and (3) concurrency with the model behind a
server: 16 GSM8K examples through ``--backend openai`` against a local OpenAI-compatible server that answers
every request after a fixed delay, at ``--concurrency 1`` and ``--concurrency 8`` (goal: >= 5x faster).

(1) loads the model once, runs ``lumos.evaluate`` with every generate/chat call recorded (prompts and
time), then replays exactly those calls, in the same batches, on the same backend. ratio = eval wall
time / replay time. (2) renders the first ``--vllm_batch`` plan prompts of the benchmark and generates
them with both backends in one call each (greedy, stop at the newline, after a one-prompt warm-up).

(3) starts the delay server on 127.0.0.1 (scripted Lumos-I replies: one subgoal, one Calculator action, stop)
and runs the real evaluation (episodes, sympy tools, predictions.jsonl) twice, side by side in one run.

Run:
    .venv/bin/python bench/agent_loop.py --part overhead --n 8              # overhead only
    .venv-vllm/bin/python bench/agent_loop.py --part vllm --vllm_batch 16   # hf vs vllm
    .venv/bin/python bench/agent_loop.py --part concurrency                 # server concurrency (no model needed)
Prints a table and writes it as JSON to ``--out`` (default results/bench/agent_loop.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumos.benchmarks import load_benchmark
from lumos.config import parse_eval_args
from lumos.evaluate import evaluate
from lumos.formats.chat import Message, render_prompt
from lumos.formats.prompts import plan_first_user
from lumos.inference.hf import HFBackend
from lumos.paths import DEFAULT_BASE_MODEL, REPO_ROOT

logger = logging.getLogger("bench.agent_loop")


class Recorder:
    """Wraps a backend; records every call (kind, inputs, kwargs, seconds) for replay."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.calls = inner, inner.name, []
        self.eos_token = getattr(inner, "eos_token", "</s>")

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 512, stop: Sequence[str] = ("\n",)) -> list[str]:
        t = time.perf_counter()
        out = self.inner.generate(prompts, max_new_tokens=max_new_tokens, stop=stop)
        self.calls.append(("generate", list(prompts), {"max_new_tokens": max_new_tokens, "stop": tuple(stop)},
                           time.perf_counter() - t))
        return out

    def chat(self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 512) -> list[str]:
        t = time.perf_counter()
        out = self.inner.chat(conversations, max_new_tokens=max_new_tokens)
        self.calls.append(("chat", [list(c) for c in conversations], {"max_new_tokens": max_new_tokens},
                           time.perf_counter() - t))
        return out


def overhead(args: argparse.Namespace, planner: Any, grounder: Any) -> dict[str, Any]:
    plan_rec = Recorder(planner)
    ground_rec = plan_rec if grounder is planner else Recorder(grounder)
    recorders = [plan_rec] if ground_rec is plan_rec else [plan_rec, ground_rec]
    for backend in {id(r.inner): r.inner for r in recorders}.values():  # warm-up, outside both timings
        backend.generate(["<|user|>\nHello\n<|assistant|>\n"], max_new_tokens=8)
    with tempfile.TemporaryDirectory() as tmp:
        config, *_ = parse_eval_args([
            "--data_dir", args.data_dir, "--max_num_examples", str(args.n), "--eval_batch_size", str(args.batch_size),
            "--formulation", args.formulation, "--plan_model", args.plan_model, "--ground_model", args.ground_model,
            "--save_dir", tmp, "--cache", "none", "--max_new_tokens", str(args.max_new_tokens),
            *(["--corpus", args.corpus, "--retriever", "bm25"] if args.corpus else [])], benchmark=args.benchmark)
        t = time.perf_counter()
        result = evaluate(config, planner=plan_rec, grounder=ground_rec, qa=plan_rec)
        eval_s = time.perf_counter() - t
    calls = [(rec.inner, c) for rec in recorders for c in rec.calls]
    in_eval_gen_s = sum(c[3] for _, c in calls)
    t = time.perf_counter()
    for backend, (kind, inputs, kwargs, _) in calls:
        getattr(backend, kind)(inputs, **kwargs)
    replay_s = time.perf_counter() - t
    return {"examples": args.n, "calls": len(calls), "status": result["status_counts"], "eval_s": eval_s,
            "gen_in_eval_s": in_eval_gen_s, "replay_s": replay_s, "ratio_vs_replay": eval_s / replay_s,
            "ratio_vs_in_eval_gen": eval_s / in_eval_gen_s}


def hf_vs_vllm(args: argparse.Namespace, hf: HFBackend) -> dict[str, Any]:
    from lumos.inference.vllm import VLLMBackend, build_engine

    _, data = load_benchmark(args.benchmark, args.data_dir)
    prompts = [render_prompt([Message("user", plan_first_user(e.question))], style="original")
               for e in data.examples[: args.vllm_batch]]
    out: dict[str, Any] = {"batch": len(prompts), "max_new_tokens": args.max_new_tokens, "dtype": args.dtype}
    texts = {}

    def timed(name: str, backend: Any) -> None:
        backend.generate(prompts[:1], max_new_tokens=8)  # warm-up
        t = time.perf_counter()
        texts[name] = backend.generate(prompts, max_new_tokens=args.max_new_tokens)
        out[f"{name}_s"] = time.perf_counter() - t
        out[f"{name}_new_tokens"] = sum(len(hf.tokenizer(x, add_special_tokens=False)["input_ids"]) for x in texts[name])

    timed("hf", hf)  # before the vLLM engine exists, so the two never share the cores
    timed("vllm", VLLMBackend(build_engine(args.model, dtype=args.dtype, max_model_len=2048, seed=0)))
    out["speedup"] = out["hf_s"] / out["vllm_s"]
    out["same_outputs"] = sum(a == b for a, b in zip(texts["hf"], texts["vllm"]))
    return out


class DelayServer:
    """A local OpenAI-compatible server that answers every Completions request after ``delay_s`` seconds with a
    scripted Lumos-I reply: plan -> one subgoal, then the stop sentence; ground -> one Calculator action."""

    def __init__(self, delay_s: float) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(server.delay_s)
                prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                choices = [{"index": i, "text": DelayServer.reply(p), "finish_reason": "stop", "logprobs": None}
                           for i, p in enumerate(prompts)]
                data = json.dumps({"id": "x", "object": "text_completion", "created": 0, "model": body["model"],
                                   "choices": choices}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.delay_s = delay_s
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @staticmethod
    def reply(prompt: str) -> str:
        if "Please ground the given subgoal" in prompt:
            return "R1 = Calculator(16 - 3 - 4)"
        return "Subgoal 1: Calculate the number of eggs left." if prompt.count("<|assistant|>") == 1 else \
            "Yes, I will stop planning."

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def concurrency(args: argparse.Namespace) -> dict[str, Any]:
    """16 GSM8K examples through --backend openai at --concurrency 1 and 8, against the delay server."""
    server = DelayServer(args.delay_s)
    out: dict[str, Any] = {"examples": args.concurrency_n, "delay_s": args.delay_s}
    try:
        for c in (1, args.concurrency):
            with tempfile.TemporaryDirectory() as tmp:
                config, *_ = parse_eval_args([
                    "--data_dir", args.data_dir, "--max_num_examples", str(args.concurrency_n), "--backend", "openai",
                    "--base_url", server.url, "--concurrency", str(c), "--formulation", "lumos_iterative",
                    "--save_dir", tmp, "--cache", "none"], benchmark="gsm")
                t = time.perf_counter()
                result = evaluate(config)
                out[f"c{c}_s"] = time.perf_counter() - t
                out[f"c{c}_status"] = result["status_counts"]
                out[f"c{c}_driver"] = result["ran"]["driver"]
    finally:
        server.close()
    out["speedup"] = out["c1_s"] / out[f"c{args.concurrency}_s"]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(DEFAULT_BASE_MODEL), help="one model folder standing in for both modules")
    p.add_argument("--plan_model", help="planning module (default --model), e.g. a fine-tuned demo checkpoint")
    p.add_argument("--ground_model", help="grounding module (default --model)")
    p.add_argument("--benchmark", default="gsm")
    p.add_argument("--formulation", default="lumos_iterative")
    p.add_argument("--data_dir", default=str(REPO_ROOT.parent / "shared" / "data"))
    p.add_argument("--corpus", help="knowledge corpus (complex QA benchmarks)")
    p.add_argument("--n", type=int, default=8, help="examples for the overhead run")
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--max_new_tokens", type=int, default=512)
    p.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16"))
    p.add_argument("--vllm_batch", type=int, default=16, help="0 skips the hf-vs-vllm comparison")
    p.add_argument("--threads", type=int, default=1, help="torch threads for HF (vLLM's CPU worker also runs the "
                   "model on 1 thread); 2 OpenMP threads on 2 shared, busy cores spin-wait and run ~9x slower")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench" / "agent_loop.json")
    p.add_argument("--part", default="all", choices=("all", "overhead", "vllm", "concurrency"))
    p.add_argument("--concurrency", type=int, default=8, help="(3): the concurrent run's --concurrency")
    p.add_argument("--concurrency_n", type=int, default=16, help="(3): GSM8K examples")
    p.add_argument("--delay_s", type=float, default=0.25, help="(3): the server's delay per request")
    args = p.parse_args(argv)
    report: dict[str, Any] = {"part": args.part}
    if args.part in ("all", "concurrency"):
        c = report["concurrency"] = concurrency(args)
        print(f"server concurrency: {c['examples']} GSM8K examples, Lumos-I, {c['delay_s']} s per request")
        print(f"  --concurrency 1: {c['c1_s']:.2f} s ({c['c1_driver']}); --concurrency {args.concurrency}: "
              f"{c[f'c{args.concurrency}_s']:.2f} s ({c[f'c{args.concurrency}_driver']})")
        print(f"  speedup {c['speedup']:.2f}x (goal >= 5x); statuses {c['c1_status']} / {c[f'c{args.concurrency}_status']}")
        if args.part == "concurrency":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1, default=str))
            return
    import torch

    torch.set_num_threads(args.threads)
    args.plan_model, args.ground_model = args.plan_model or args.model, args.ground_model or args.model
    hf = HFBackend(args.model, batch_size=max(args.batch_size, args.vllm_batch), dtype=args.dtype)
    planner = hf if args.plan_model == args.model else HFBackend(args.plan_model, batch_size=args.batch_size, dtype=args.dtype)
    grounder = hf if args.ground_model == args.model else HFBackend(args.ground_model, batch_size=args.batch_size, dtype=args.dtype)
    report.update({"model": args.model, "plan_model": args.plan_model, "ground_model": args.ground_model,
                   "benchmark": args.benchmark, "formulation": args.formulation, "threads": args.threads})
    if args.part in ("all", "overhead"):
        report["overhead"] = overhead(args, planner, grounder)
    try:
        import vllm  # noqa: F401

        have_vllm = True
    except ImportError:
        have_vllm = False
    if args.part in ("all", "vllm"):
        report["hf_vs_vllm"] = hf_vs_vllm(args, hf) if have_vllm and args.vllm_batch > 0 else "vllm not importable here"
    rows = []
    if "overhead" in report:
        o = report["overhead"]
        rows += [("eval wall time (s)", f"{o['eval_s']:.2f}"), ("same generations replayed (s)", f"{o['replay_s']:.2f}"),
                 ("generation time inside the eval (s)", f"{o['gen_in_eval_s']:.2f}"),
                 ("overhead ratio eval/replay (goal <= 1.15)", f"{o['ratio_vs_replay']:.3f}"),
                 ("overhead ratio eval/in-eval generation", f"{o['ratio_vs_in_eval_gen']:.3f}"),
                 ("generation calls / statuses", f"{o['calls']} / {o['status']}")]
    v = report.get("hf_vs_vllm")
    if isinstance(v, dict):
        rows += [(f"hf batch {v['batch']} (s, new tokens)", f"{v['hf_s']:.2f}, {v['hf_new_tokens']}"),
                 (f"vllm batch {v['batch']} (s, new tokens)", f"{v['vllm_s']:.2f}, {v['vllm_new_tokens']}"),
                 ("vllm speedup (goal >= 2)", f"{v['speedup']:.2f}x"), ("identical outputs", f"{v['same_outputs']}/{v['batch']}")]
    elif v is not None:
        rows.append(("hf vs vllm", v))
    width = max(len(r[0]) for r in rows)
    modules = args.model if args.plan_model == args.ground_model == args.model else f"{args.plan_model} + {args.ground_model}"
    print(f"agent loop benchmark: {modules} on {args.benchmark} {args.formulation}, n={args.n}, {args.dtype}, "
          f"{args.threads} torch thread(s)")
    for k, val in rows:
        print(f"  {k:<{width}}  {val}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
