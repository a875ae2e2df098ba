"""Plots and tables of evaluation results: a grouped bar chart (PNG) and a Markdown table.

A row is one agent on one benchmark, as the reproduction study's ``summary.json`` holds it::

    {"agent": "Lumos-I", "trained": true, "benchmark": "gsm", "metric": "acc", "value": 0.043, "n": 300}

Used by ``python -m lumos.reproduce`` (``scripts/reproduce_cpu.sh``). Tests: ``pytest tests/test_reproduce.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def grouped_bar_chart(rows: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """One group of bars per benchmark (its headline metric), one bar per agent; values in percent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(dict.fromkeys(f"{r['benchmark']} ({r['metric']})" for r in rows))
    agents = list(dict.fromkeys(r["agent"] for r in rows))
    value = {(f"{r['benchmark']} ({r['metric']})", r["agent"]): 100.0 * float(r["value"]) for r in rows}
    width = 0.8 / max(len(agents), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(benches) * max(len(agents), 1) / 3), 4))
    for j, agent in enumerate(agents):
        xs = [i + (j - (len(agents) - 1) / 2) * width for i in range(len(benches))]
        ys = [value.get((b, agent), 0.0) for b in benches]
        bars = ax.bar(xs, ys, width, label=agent)
        for bar, y in zip(bars, ys):
            ax.annotate(f"{y:.1f}", (bar.get_x() + bar.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(benches)))
    ax.set_xticklabels(benches)
    ax.set_ylabel("score (%)")
    ax.set_title(title, fontsize=9)
    if agents:
        ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown_table(rows: Sequence[Mapping[str, Any]], *, paper: Mapping[str, str] | None = None,
                   paper_label: str = "paper (Llama-2-7B)") -> str:
    """Agents as rows, ``benchmark metric`` as columns (percent, with n), plus a ``paper_label`` column per agent."""
    cols = list(dict.fromkeys((r["benchmark"], r["metric"]) for r in rows))
    agents = list(dict.fromkeys(r["agent"] for r in rows))
    cell = {(r["agent"], r["benchmark"], r["metric"]): r for r in rows}
    header = ["agent"] + [f"{b} {m} (n)" for b, m in cols] + ([paper_label] if paper is not None else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for agent in agents:
        cells = [agent]
        for b, m in cols:
            r = cell.get((agent, b, m))
            cells.append(f"{100.0 * float(r['value']):.1f} ({r['n']})" if r else "—")
        if paper is not None:
            cells.append(paper.get(agent, "—"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
