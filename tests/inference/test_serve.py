"""scripts/serve_vllm.sh's planner: which vLLM servers for which checkpoint layout, and the model router."""

from __future__ import annotations

import json

import httpx
import pytest
from fake_openai import ScriptedServer

from lumos.inference.openai import OpenAIBackend
from lumos.inference.serve import Router, main, plan_servers

PLAN, GROUND = "lumos_maths_plan_iterative", "lumos_maths_ground_iterative"


def _module(root, name, adapter_of=None):
    d = root / name
    d.mkdir(parents=True)
    if adapter_of:
        (d / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": adapter_of}))
    else:
        (d / "config.json").write_text("{}")
    return d


def test_two_adapters_of_one_base_share_one_server(tmp_path):
    p, g = _module(tmp_path, PLAN, "base-7b"), _module(tmp_path, GROUND, "base-7b")
    plan = plan_servers(tmp_path, "maths", "iterative", 8000)
    [server] = plan.servers
    cmd = server.command("python")
    assert not plan.needs_router and server.model == "base-7b" and server.port == 8000
    assert cmd[cmd.index("--lora-modules") + 1:] == [f"{PLAN}={p}", f"{GROUND}={g}"] and "--enable-lora" in cmd


def test_two_full_models_get_two_servers_and_a_router(tmp_path, capsys):
    _module(tmp_path, PLAN), _module(tmp_path, GROUND)
    plan = plan_servers(tmp_path, "maths", "iterative", 8000)
    assert plan.needs_router and plan.routes == {PLAN: 8001, GROUND: 8002}
    assert [s.command("py")[s.command("py").index("--served-model-name") + 1] for s in plan.servers] == [PLAN, GROUND]
    assert main([str(tmp_path), "--dry_run", "--python", "vpy"]) == 0
    out = capsys.readouterr().out
    assert out.count("vpy -m vllm.entrypoints.openai.api_server") == 2 and "router on 127.0.0.1:8000" in out


def test_missing_module_is_named(tmp_path):
    _module(tmp_path, PLAN)
    with pytest.raises(FileNotFoundError, match=GROUND):
        plan_servers(tmp_path, "maths", "iterative", 8000)


def test_router_forwards_by_model_name():
    plan_srv = ScriptedServer(lambda p: "Subgoal 1: from the plan server.")
    ground_srv = ScriptedServer(lambda p: "R1 = Calculator(1 + 1)")
    router = Router({PLAN: int(plan_srv.url.split(":")[-1].split("/")[0]),
                     GROUND: int(ground_srv.url.split(":")[-1].split("/")[0])}, 0)
    router.start()
    try:
        url = f"http://127.0.0.1:{router.httpd.server_address[1]}/v1"
        assert OpenAIBackend(PLAN, base_url=url, max_retries=0).generate(["x"]) == ["Subgoal 1: from the plan server."]
        assert OpenAIBackend(GROUND, base_url=url, max_retries=0).generate(["y"]) == ["R1 = Calculator(1 + 1)"]
        assert {m["id"] for m in httpx.get(url + "/models").json()["data"]} == {PLAN, GROUND}
        assert httpx.post(url + "/completions", json={"model": "other", "prompt": "z"}).status_code == 404
        assert len(plan_srv.requests) == 1 and len(ground_srv.requests) == 1
    finally:
        router.close()
        plan_srv.close()
        ground_srv.close()
