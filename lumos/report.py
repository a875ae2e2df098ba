"""Human-readable renderings of trajectories: plain text for the terminal and a self-contained HTML page.

All model and tool text is escaped (``html.escape``) before it goes into the page.

    >>> print(format_trajectory(traj))
    Task: Natalia sold clips ...   [maths, lumos_iterative, done]
    -- Step 1 --
    plan   > Subgoal 1: Calculate ...
    ground > R1 = Calculator(48 / 2)
      R1 = Calculator(48 / 2) -> 24
    feedback: 24
    Prediction: 72

Used by ``lumos run ... --html FILE`` (``lumos.cli``); a demo report can call ``trajectories_html``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from lumos.agent.trajectory import Trajectory

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.task{border:1px solid #ccc;border-radius:6px;padding:1rem;margin-bottom:2rem}
.step{border-left:3px solid #88a;padding-left:.8rem;margin:.8rem 0}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5rem;border-radius:4px;margin:.3rem 0}
.err{color:#a00}.ok{color:#060}.meta{color:#666;font-size:.9em}
details summary{cursor:pointer;color:#446}
"""


def _value_text(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


def format_trajectory(traj: Trajectory, *, show_prompts: bool = False) -> str:
    """A plain-text view: each step's plan, grounding, action results and feedback."""
    lines = [f"Task: {traj.task}   [{traj.domain}, {traj.formulation}, {traj.status}]"]
    for step in traj.steps:
        lines.append(f"-- Step {step.index} --")
        if show_prompts:
            lines += ["plan prompt:", step.plan_prompt]
        lines.append(f"plan   > {step.plan_output}")
        if step.ground_output is not None:
            if show_prompts and step.ground_prompt:
                lines += ["ground prompt:", step.ground_prompt]
            lines.append(f"ground > {step.ground_output}")
        for r in step.results:
            shown = f"ERROR {r['error']}" if r.get("error") else _value_text(r.get("value"), 300)
            lines.append(f"  {r.get('action', '')} -> {shown}")
        if step.feedback is not None:
            lines.append(f"feedback: {step.feedback}")
        if step.error:
            lines.append(f"error: {step.error}")
    lines.append(f"Prediction: {traj.prediction}")
    if traj.error:
        lines.append(f"Error: {traj.error}")
    return "\n".join(lines)


def _pre(text: str | None) -> str:
    return f"<pre>{html.escape(text or '')}</pre>"


def trajectory_html_fragment(traj: Trajectory, *, gold: str | None = None) -> str:
    """One trajectory as an HTML ``<div>`` (every text escaped)."""
    e = html.escape
    parts = [f'<div class="task"><h2>{e(traj.task)}</h2>',
             f'<p class="meta">{e(traj.domain)} · {e(traj.formulation)} · status <b>{e(traj.status)}</b></p>']
    for step in traj.steps:
        parts.append(f'<div class="step"><h3>Step {step.index}</h3>')
        parts.append(f"<details><summary>plan prompt</summary>{_pre(step.plan_prompt)}</details>")
        parts.append(f"<p>Plan output:</p>{_pre(step.plan_output)}")
        if step.ground_prompt is not None:
            parts.append(f"<details><summary>ground prompt</summary>{_pre(step.ground_prompt)}</details>")
            parts.append(f"<p>Ground output:</p>{_pre(step.ground_output)}")
        if step.results:
            parts.append("<ul>")
            for r in step.results:
                if r.get("error"):
                    shown = f'<span class="err">error: {e(str(r["error"]))}</span>'
                else:
                    shown = _pre(_value_text(r.get("value")))
                parts.append(f"<li><code>{e(str(r.get('action', '')))}</code>{shown}</li>")
            parts.append("</ul>")
        if step.feedback is not None:
            parts.append(f"<p>Fed back to the planner: <code>{e(step.feedback)}</code></p>")
        if step.error:
            parts.append(f'<p class="err">{e(step.error)}</p>')
        parts.append("</div>")
    cls = "ok" if traj.status == "done" else "err"
    parts.append(f'<p class="{cls}">Prediction: <b>{e(str(traj.prediction))}</b></p>')
    if gold is not None:
        parts.append(f"<p>Gold: <b>{e(gold)}</b></p>")
    if traj.error:
        parts.append(f'<p class="err">{e(traj.error)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def trajectories_html(trajs: Sequence[Trajectory], *, title: str = "Lumos trajectories",
                      golds: Sequence[str | None] | None = None) -> str:
    """A complete, self-contained HTML page showing several trajectories."""
    golds = list(golds) if golds is not None else [None] * len(trajs)
    body = "\n".join(trajectory_html_fragment(t, gold=g) for t, g in zip(trajs, golds))
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")
