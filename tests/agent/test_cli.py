"""``lumos run`` and the trajectory renderings (text and escaped HTML)."""

from __future__ import annotations

import json

import lumos.cli as cli
from lumos.agent.trajectory import Step, Trajectory
from lumos.inference.scripted import ScriptedBackend
from lumos.report import format_trajectory, trajectories_html


def _traj() -> Trajectory:
    t = Trajectory(task="Is 3 < 4 & <script>alert(1)</script>?", domain="maths", formulation="lumos_iterative")
    t.steps.append(Step(index=1, plan_prompt="<|user|>\n...", plan_output="Subgoal 1: Compare <b>.",
                        subgoals=["Subgoal 1: Compare <b>."], ground_prompt="p", ground_output="R1 = Calculator(3 < 4)",
                        results=[{"action": "R1 = Calculator(3 < 4)", "value": "True", "error": None}], feedback="True"))
    t.finish("done")
    t.prediction = "True"
    return t


def test_html_escapes_everything():
    page = trajectories_html([_traj()], golds=["yes"])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Compare &lt;b&gt;." in page and "R1 = Calculator(3 &lt; 4)" in page
    assert page.startswith("<!DOCTYPE html>") and "Gold: <b>yes</b>" in page


def test_text_rendering_lists_each_part():
    text = format_trajectory(_traj(), show_prompts=True)
    assert "plan   > Subgoal 1: Compare <b>." in text and "R1 = Calculator(3 < 4) -> True" in text
    assert text.endswith("Prediction: True") and "<|user|>" in text


def test_lumos_run_prints_and_writes(tmp_path, monkeypatch, capsys, fn_tool, execute):
    planner = ScriptedBackend(lambda p: "Subgoal 1: Add." if p.count("<|assistant|>") == 1 else "Yes, I will stop planning.")
    grounder = ScriptedBackend(lambda p: "R1 = Calculator(2 + 2)")
    seen = {}

    def fake_backends(kind, plan, ground, **kw):
        seen.update(kind=kind, plan=plan, ground=ground, style=kw["prompt_style"])
        return planner, grounder

    import lumos.inference
    from lumos.runtime import RunContext

    monkeypatch.setattr(lumos.inference, "load_module_backends", fake_backends)
    monkeypatch.setattr(RunContext, "toolbox", lambda self, d: {"Calculator": fn_tool("Calculator", lambda c: 4)})
    (tmp_path / "root" / "lumos_maths_plan_iterative").mkdir(parents=True)
    (tmp_path / "root" / "lumos_maths_ground_iterative").mkdir()
    html_out, json_out = tmp_path / "t.html", tmp_path / "t.json"
    rc = cli.main(["run", "What is 2 + 2?", "--domain", "maths", "--model_name_or_path", str(tmp_path / "root"),
                   "--html", str(html_out), "--json", str(json_out)])
    out = capsys.readouterr().out
    assert rc == 0 and "Prediction: 4" in out and "ground > R1 = Calculator(2 + 2)" in out
    assert seen["plan"].endswith("lumos_maths_plan_iterative") and seen["ground"].endswith("lumos_maths_ground_iterative")
    assert "What is 2 + 2?" in html_out.read_text() and json.loads(json_out.read_text())["prediction"] == "4"
