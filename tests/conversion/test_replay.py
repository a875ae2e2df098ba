"""Evaluation sees what training showed: real rule-converted GSM8K and StrategyQA training records, their gold
actions replayed through the evaluation's tools and prompt builders, every planning and grounding turn compared
with the training files (tests/conversion/replay.py)."""

from __future__ import annotations

import pytest
from replay import replay

from lumos.conversion import convert
from lumos.utils.io import read_jsonl

N = 200


@pytest.mark.parametrize("domain,source", [("maths", "gsm8k/train.jsonl"), ("complex_qa", "strategyqa/train.json")])
def test_replayed_gold_actions_give_the_training_turns(shared_data, tmp_path, domain, source):
    out = tmp_path / "converted.json"
    convert.main(["--domain", domain, "--data_fn", str(shared_data / source), "--st_idx", "0", "--ed_idx", str(N),
                  "--backend", "rule", "--output", str(out)])
    records = read_jsonl(out)
    assert len(records) >= 0.9 * N
    report = replay(records, domain).as_dict()
    assert report["records"] == len(records) and report["plan_turns"] > len(records)
    assert report["classes"] == {} and report["share_identical_turns"] == 1.0, report["examples"]
    assert report["identical_records"] == len(records)
