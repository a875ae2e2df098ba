"""Serve a planning and a grounding module with vLLM's OpenAI-compatible server, so any evaluation runs
with ``--backend openai --base_url http://HOST:PORT/v1``.

The served model names are the checkpoint names the evaluation asks for
(``lumos_<domain>_{plan,ground}_<formulation>``). Three layouts:

* both modules are LoRA adapters of one base: one server, ``--enable-lora --lora-modules
  <plan name>=<dir> <ground name>=<dir>``;
* both are the same folder: one server answering to both names (``--served-model-name a b``);
* two full models (the released ``ai2lumos/*`` checkpoints): two servers on the next ports and a small
  router on ``--port`` that forwards each request by its ``model`` field, so one ``--base_url`` serves both.

    python -m lumos.inference.serve models --domain maths --formulation iterative --port 8000
    # then: python -m eval.gsm.run_eval --backend openai --base_url http://127.0.0.1:8000/v1 ...

On CPU run it with the vLLM venv's python (``PYTHON=.venv-vllm/bin/python scripts/serve_vllm.sh models``);
``--gpu_memory_utilization`` is then the share of host memory vLLM reserves (0.3 works beside other jobs).
``--dry_run`` prints the commands without starting anything.

Exercise: ``pytest tests/inference/test_serve.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lumos.inference.vllm import adapter_base
from lumos.paths import checkpoint_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerSpec:
    """One vLLM OpenAI server: the model it loads, the names it answers to, LoRA modules, its port."""

    model: str
    names: tuple[str, ...]
    port: int
    lora: tuple[tuple[str, str], ...] = ()

    def command(self, python: str, extra: Sequence[str] = ()) -> list[str]:
        cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model, "--host", "127.0.0.1",
               "--port", str(self.port)]
        if self.lora:
            cmd += ["--enable-lora", "--max-lora-rank", "64", "--lora-modules", *(f"{n}={p}" for n, p in self.lora)]
        else:
            cmd += ["--served-model-name", *self.names]
        return cmd + list(extra)


@dataclass(frozen=True)
class ServePlan:
    servers: tuple[ServerSpec, ...]
    port: int
    routes: dict[str, int] = field(default_factory=dict)  # model name -> server port (router only)

    @property
    def needs_router(self) -> bool:
        return len(self.servers) > 1


def plan_servers(root: Path, domain: str, formulation: str, port: int) -> ServePlan:
    """Decide the servers for the modules of ``domain`` under ``root``.

    Raises:
        FileNotFoundError: a module folder is missing.
    """
    names = [checkpoint_name(domain, m, formulation) for m in ("plan", "ground")]
    dirs = [root / n for n in names]
    for d in dirs:
        if not d.is_dir():
            raise FileNotFoundError(f"{d} does not exist (expected the {d.name} checkpoint under {root})")
    if dirs[0].resolve() == dirs[1].resolve():
        return ServePlan((ServerSpec(str(dirs[0]), tuple(names), port),), port)
    bases = [adapter_base(str(d)) for d in dirs]
    if bases[0] is not None and bases[0] == bases[1]:
        return ServePlan((ServerSpec(bases[0], (), port, lora=tuple(zip(names, map(str, dirs)))),), port)
    servers = tuple(ServerSpec(str(d), (n,), port + 1 + i) for i, (n, d) in enumerate(zip(names, dirs)))
    return ServePlan(servers, port, routes={s.names[0]: s.port for s in servers})


class Router:
    """Forwards OpenAI requests to the server that serves the request's ``model`` (non-streaming)."""

    def __init__(self, routes: dict[str, int], port: int, host: str = "127.0.0.1") -> None:
        import httpx

        client = httpx.Client(timeout=None)
        router = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": name, "object": "model", "owned_by": "lumos"} for name in router.routes]
                    self._reply(200, json.dumps({"object": "list", "data": data}).encode())
                else:
                    self._reply(404, b'{"error": "not found"}')

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    model = json.loads(raw).get("model")
                except json.JSONDecodeError:
                    self._reply(400, b'{"error": "body is not JSON"}')
                    return
                target = router.routes.get(model)
                if target is None:
                    msg = {"error": {"message": f"model {model!r} is not served; served: {sorted(router.routes)}"}}
                    self._reply(404, json.dumps(msg).encode())
                    return
                resp = client.post(f"http://127.0.0.1:{target}{self.path}", content=raw,
                                   headers={"Content-Type": "application/json"})
                self._reply(resp.status_code, resp.content, resp.headers.get("content-type", "application/json"))

        self.routes = dict(routes)
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait until ``http://127.0.0.1:port/v1/models`` answers (or the process dies)."""
    import httpx

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the vLLM server on port {port} exited with code {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise TimeoutError(f"the vLLM server on port {port} was not ready after {timeout_s:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_root", type=Path, help="folder holding lumos_<domain>_{plan,ground}_<formulation>/")
    p.add_argument("--domain", default="maths", help="maths | complex_qa | web_agent | unified")
    p.add_argument("--formulation", default="iterative", choices=("iterative", "onetime"))
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--python", default=sys.executable, help="the python that has vllm (CPU: .venv-vllm/bin/python)")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--max_model_len", type=int, default=4096)
    p.add_argument("--gpu_memory_utilization", type=float, default=None,
                   help="GPU: share of GPU memory; CPU: share of host memory (0.3 beside other jobs)")
    p.add_argument("--ready_timeout_s", type=float, default=900)
    p.add_argument("--dry_run", action="store_true", help="print the commands and exit")
    args = p.parse_args(argv)
    plan = plan_servers(args.model_root, args.domain, args.formulation, args.port)
    extra = ["--dtype", args.dtype, "--max-model-len", str(args.max_model_len), "--enforce-eager"]
    if args.gpu_memory_utilization is not None:
        extra += ["--gpu-memory-utilization", str(args.gpu_memory_utilization)]
    commands = [s.command(args.python, extra) for s in plan.servers]
    for cmd in commands:
        print(" ".join(cmd))
    if plan.needs_router:
        print(f"# router on 127.0.0.1:{plan.port}: {plan.routes}")
    if args.dry_run:
        return 0
    procs = [subprocess.Popen(cmd) for cmd in commands]
    router = None
    try:
        for spec, proc in zip(plan.servers, procs):
            wait_ready(spec.port, proc, args.ready_timeout_s)
        if plan.needs_router:
            router = Router(plan.routes, plan.port)
            router.start()
        print(f"ready: --backend openai --base_url http://127.0.0.1:{plan.port}/v1 "
              f"(models {', '.join(checkpoint_name(args.domain, m, args.formulation) for m in ('plan', 'ground'))})",
              flush=True)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        while all(proc.poll() is None for proc in procs):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if router is not None:
            router.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
