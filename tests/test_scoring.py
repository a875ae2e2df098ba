"""Aggregation over all examples with 95 % intervals, micro metrics, and ``lumos score`` on external predictions."""

from __future__ import annotations

import json

import pytest
from tiny_models import FIXTURES

import lumos.cli as cli
from lumos.benchmarks.base import Benchmark, Dataset, Example, MetricSpec
from lumos.scoring import bootstrap_interval, select_shard, summarize, wilson_interval


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert wilson_interval(0, 20)[0] == 0.0 and 0.16 < wilson_interval(0, 20)[1] < 0.17
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.0, 0.25, 0.5, 1.0, 0.75, 0.5, 0.1, 0.9]
    a, b = bootstrap_interval(values, seed=3), bootstrap_interval(values, seed=3)
    assert a == b and a[0] < sum(values) / len(values) < a[1]


def test_shards_are_contiguous_and_cover_everything():
    items = list(range(10))
    parts = [select_shard(items, k, 3) for k in range(3)]
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]] and sum(parts, []) == items
    assert select_shard(items[:2], 0, 3) == []


def _bench(metrics):
    return Benchmark(name="toy", domain="maths", load=lambda d: None, make_episode=lambda *a: None,
                     metrics=metrics, primary=metrics[0].name, max_subgoals=1)


def test_mean_counts_missing_and_failed_examples_as_zero():
    bench = _bench((MetricSpec("acc", lambda p, g: float(p == g)),))
    examples = [Example(str(i), "q", "1") for i in range(4)]
    records = {"0": {"scores": {"acc": 1.0}, "status": "done"}, "1": {"scores": {"acc": 0.0}, "status": "tool_error"},
               "2": {"scores": {"acc": 1.0}, "status": "done"}}
    out = summarize(bench, examples, records)
    assert out["n"] == 4 and out["metrics"] == {"acc": 0.5} and out["correct"] == {"acc": 2.0}
    assert out["status_counts"] == {"done": 2, "missing": 1, "tool_error": 1}
    assert out["ci95"]["acc"]["method"] == "wilson"


def test_micro_metric_sums_numerators_over_all_denominators():
    spec = MetricSpec("step_acc", aggregation="micro", numerator="steps_right", denominator=lambda e: e.metadata["steps"])
    bench = _bench((MetricSpec("task_sr"), spec))
    examples = [Example("a", "q", "", {"steps": 3}), Example("b", "q", "", {"steps": 5}), Example("c", "q", "", {"steps": 2})]
    records = {"a": {"scores": {"task_sr": 1.0, "steps_right": 3}, "status": "done"},
               "b": {"scores": {"task_sr": 0.0, "steps_right": 1}, "status": "done"}}  # c never ran
    out = summarize(bench, examples, records)
    assert out["metrics"]["step_acc"] == pytest.approx(4 / 10) and out["metrics"]["task_sr"] == pytest.approx(1 / 3)
    assert out["ci95"]["step_acc"]["method"] == "bootstrap" and "steps_right" not in out["metrics"]


def test_dataset_refuses_empty_and_duplicate_ids(tmp_path):
    from lumos.utils.io import DataFormatError

    with pytest.raises(DataFormatError, match="no examples"):
        Dataset((), tmp_path / "x.jsonl")
    with pytest.raises(DataFormatError, match="'1' appears more than once"):
        Dataset((Example("1", "q", "a"), Example("1", "q", "b")), tmp_path / "x.jsonl")


def test_lumos_score_external_predictions(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    # gsm fixture gold: "0" -> 12, "1" -> 1500 ; one unknown id, one repeated id
    preds.write_text("\n".join(json.dumps(r) for r in [
        {"id": "0", "prediction": "12"}, {"id": "0", "prediction": "13"}, {"id": "nope", "prediction": "1"}]) + "\n")
    rc = cli.main(["score", "--benchmark", "gsm", "--predictions", str(preds), "--data_dir", str(FIXTURES / "eval" / "gsm")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n"] == 2 and out["metrics"]["acc"] == 0.5 and out["missing"] == 1
    assert out["unknown_ids"] == ["nope"] and out["repeated_ids"] == ["0"] and out["status_counts"] == {
        "external": 1, "missing": 1}
    assert set(out) >= {"n", "metrics", "ci95", "correct", "status_counts"}


def test_groups_break_the_metrics_down():
    import dataclasses

    bench = dataclasses.replace(_bench((MetricSpec("success"),)), groups=("hardness",))
    examples = [Example("a", "q", "", {"hardness": "easy"}), Example("b", "q", "", {"hardness": "easy"}),
                Example("c", "q", "", {"hardness": "hard"})]
    out = summarize(bench, examples, {"a": {"scores": {"success": 1.0}, "status": "done"}})
    assert out["metrics"]["success"] == pytest.approx(1 / 3)
    easy, hard = out["by_group"]["hardness"]["easy"], out["by_group"]["hardness"]["hard"]
    assert (easy["n"], easy["metrics"]["success"], hard["n"], hard["metrics"]["success"]) == (2, 0.5, 1, 0.0)
    assert "by_group" not in easy


STRICT = [("2*x + 3 = 11", "11", 0), ("18 or 20", "18", 0), ("x > 3", "3", 0), ("sqrt(2)", "1.4142135623730951", 0),
          ("R1 + 5", "5", 0), ("-2, 2", "-2", 0), ("6,4", "64", 0), ("1 1/2", "1.5", 1), ("1e3", "1000", 1),
          ("18.0", "18", 1)]


def test_lumos_score_gsm_strict_maths_on_a_hand_written_file(tmp_path, capsys):
    data = tmp_path / "test.jsonl"
    data.write_text("".join(json.dumps({"question": f"Q{i}?", "answer": f"... #### {gold}"}) + "\n"
                            for i, (_, gold, _) in enumerate(STRICT)))
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": str(i), "prediction": p}) + "\n" for i, (p, _, _) in enumerate(STRICT)))
    assert cli.main(["score", "--benchmark", "gsm", "--predictions", str(preds), "--data_dir", str(data)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 10 and out["correct"]["acc"] == sum(right for *_, right in STRICT) == 3
    from lumos.metrics import numeric_match

    assert [numeric_match(p, g) for p, g, _ in STRICT] == [float(r) for *_, r in STRICT]
