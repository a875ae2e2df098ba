"""Benchmark the agent loop: (1) the eval's wall time against the same generations alone (overhead ratio,
goal <= 1.15) and (2) hf vs vllm on the same batch of plan prompts (goal >= 2x at batch 16; only where
``import vllm`` works, i.e. under ``.venv-vllm/bin/python``).

(1) loads the model once, runs ``lumos.evaluate`` with every generate/chat call recorded (prompts and
time), then replays exactly those calls, in the same batches, on the same backend. ratio = eval wall
time / replay time. (2) renders the first ``--vllm_batch`` plan prompts of the benchmark and generates
them with both backends in one call each (greedy, stop at the newline, after a one-prompt warm-up).

Run:
    .venv/bin/python bench/agent_loop.py --n 8                              # overhead only
    .venv-vllm/bin/python bench/agent_loop.py --n 8 --vllm_batch 16          # + hf vs vllm
Prints a table and writes it as JSON to ``--out`` (default results/bench/agent_loop.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumos.agent.loop import plan_messages
from lumos.agent.trajectory import Trajectory
from lumos.benchmarks import get_benchmark
from lumos.evaluate import build_parser, evaluate
from lumos.formats.chat import Message, render_prompt
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
        eval_args = build_parser(args.benchmark).parse_args([
            "--data_dir", args.data_dir, "--max_num_examples", str(args.n), "--eval_batch_size", str(args.batch_size),
            "--formulation", args.formulation, "--plan_model", args.plan_model, "--ground_model", args.ground_model,
            "--save_dir", tmp, "--tool_cache", "none", "--max_new_tokens", str(args.max_new_tokens),
            *(["--corpus", args.corpus, "--retriever", "bm25"] if args.corpus else [])])
        t = time.perf_counter()
        result = evaluate(eval_args, args.benchmark, planner=plan_rec, grounder=ground_rec, qa=plan_rec)
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

    bench = get_benchmark(args.benchmark, args.data_dir)
    prompts = [render_prompt(plan_messages(Trajectory(e.question, bench.domain, args.formulation)), style="original")
               for e in bench.examples[: args.vllm_batch]]
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
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.plan_model, args.ground_model = args.plan_model or args.model, args.ground_model or args.model
    hf = HFBackend(args.model, batch_size=max(args.batch_size, args.vllm_batch), dtype=args.dtype)
    planner = hf if args.plan_model == args.model else HFBackend(args.plan_model, batch_size=args.batch_size, dtype=args.dtype)
    grounder = hf if args.ground_model == args.model else HFBackend(args.ground_model, batch_size=args.batch_size, dtype=args.dtype)
    report: dict[str, Any] = {"model": args.model, "plan_model": args.plan_model, "ground_model": args.ground_model,
                              "benchmark": args.benchmark, "formulation": args.formulation, "threads": args.threads,
                              "overhead": overhead(args, planner, grounder)}
    try:
        import vllm  # noqa: F401

        have_vllm = True
    except ImportError:
        have_vllm = False
    report["hf_vs_vllm"] = hf_vs_vllm(args, hf) if have_vllm and args.vllm_batch > 0 else "vllm not importable here"
    o = report["overhead"]
    rows = [("eval wall time (s)", f"{o['eval_s']:.2f}"), ("same generations replayed (s)", f"{o['replay_s']:.2f}"),
            ("generation time inside the eval (s)", f"{o['gen_in_eval_s']:.2f}"),
            ("overhead ratio eval/replay (goal <= 1.15)", f"{o['ratio_vs_replay']:.3f}"),
            ("overhead ratio eval/in-eval generation", f"{o['ratio_vs_in_eval_gen']:.3f}"),
            ("generation calls / statuses", f"{o['calls']} / {o['status']}")]
    v = report["hf_vs_vllm"]
    if isinstance(v, dict):
        rows += [(f"hf batch {v['batch']} (s, new tokens)", f"{v['hf_s']:.2f}, {v['hf_new_tokens']}"),
                 (f"vllm batch {v['batch']} (s, new tokens)", f"{v['vllm_s']:.2f}, {v['vllm_new_tokens']}"),
                 ("vllm speedup (goal >= 2)", f"{v['speedup']:.2f}x"), ("identical outputs", f"{v['same_outputs']}/{v['batch']}")]
    else:
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
