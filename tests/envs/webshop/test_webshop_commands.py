"""Scripted policy (resumable episodes + metrics over all goals), the metrics, and the terminal player."""

from __future__ import annotations

import io

import pytest

from lumos.envs.webshop.commands import play, run_scripted, scripted_episode
from lumos.envs.webshop.metrics import aggregate
from lumos.utils.io import read_jsonl


def test_aggregate_counts_every_goal():
    m = aggregate([1.0, 0.5, None, 0.0])
    assert m["n"] == 4 and m["n_purchased"] == 3
    assert m["mean_reward"] == 0.375 and m["reward_x100"] == 37.5 and m["success_rate"] == 0.25
    assert aggregate([0.25])["reward_x100_ci95"] == 0.0
    with pytest.raises(ValueError, match="no WebShop episodes"):
        aggregate([])


def test_scripted_episode(synthetic_shop):
    rec = scripted_episode(synthetic_shop.session(0))
    assert rec["actions"][0] == f"search[{synthetic_shop.goals[0].query}]"
    assert rec["actions"][1].startswith("click[b") and rec["actions"][2] == "click[buy now]"
    assert rec["terminated"] and rec["purchased"] == rec["actions"][1][6:-1].upper() and rec["purchased_options"] == {}
    assert 0.0 <= rec["reward"] <= 1.0 and set(rec["reward_info"]) >= {"r_type", "r_att", "r_option", "r_price"}
    assert len(rec["observations"]) == 4 and rec["observations"][-1].startswith("Thank you for shopping with us!")


def test_run_scripted_resumes(synthetic_shop, tmp_path):
    first = run_scripted(synthetic_shop, range(6), tmp_path)
    assert first["episodes_run"] == 6 and first["n"] == 6
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    (tmp_path / "episodes.jsonl").write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])  # killed mid-line
    again = run_scripted(synthetic_shop, range(8), tmp_path)
    assert again["episodes_run"] == 4 and again["n"] == 8
    recs = read_jsonl(tmp_path / "episodes.jsonl")
    # the half-written line was dropped before appending; every goal has exactly one record
    assert sorted(r["goal_index"] for r in recs) == list(range(8))
    assert again["mean_reward"] == pytest.approx(sum(r["reward"] for r in recs) / 8)
    assert first["mean_reward"] == pytest.approx(sum(r["reward"] for r in recs[:6]) / 6)


def test_play_reads_actions(synthetic_shop):
    session = synthetic_shop.session(3)
    query = synthetic_shop.goals[3].query
    out = io.StringIO()
    assert play(session, io.StringIO("quit\n"), out) is None
    session.reset()
    session.step(f"search[{query}]")
    first = session.clickables[2]
    inp = io.StringIO(f"search[{query}]\nclick[nothing]\nclick[{first}]\nclick[buy now]\n")
    out = io.StringIO()
    reward = play(session, inp, out)
    text = out.getvalue()
    assert reward == session.info["reward"] and "not a valid action here" in text
    assert text.count("action (search[...] / click[...] / quit)>") == 4
    assert f"reward {reward:.4f}" in text
