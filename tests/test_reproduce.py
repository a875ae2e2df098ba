"""Tests of the reproduction study (lumos/reproduce.py) with a fake executor, and of its table helper.

Run: ``pytest tests/test_reproduce.py``. The real study is ``scripts/reproduce_cpu.sh`` (docs/reproduction.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from stage_fakes import FakeExecutor, arg

from lumos import reproduce


@pytest.fixture
def study(tmp_path: Path) -> reproduce.StudyConfig:
    base = tmp_path / "base_model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    data = tmp_path / "shared_data"
    for rel in ("gsm8k/train.jsonl", "strategyqa/train.json", "gsm8k/test.jsonl", "svamp/SVAMP.json",
                "hotpotqa/ircot_dev_subsampled.jsonl"):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text("{}\n")
    return reproduce.StudyConfig(run="s", out_dir=tmp_path / "study", data_dir=data, base_model=base, steps=2,
                            n_gsm=3, n_svamp=3, n_hotpotqa=3)


def test_study_runs_every_agent_then_reuses_and_writes_table_and_plot(study, capsys):
    fake = FakeExecutor()
    summary = reproduce.run_study(study, execute=fake)
    names = [s["name"] for s in summary["stages"]]
    assert len(names) == 2 + 12 + 12 + 12  # data, 12 models, 4 agents x 3 benchmarks, the same for the base floor
    assert "train-maths_cot" in names and "train-lumos_complex_qa_ground_onetime" in names
    assert "eval-hotpotqa-base_lumos_iterative" in names
    cot = next(c for c in fake.calls if c.argv[:3] == ("bash", "train.sh", "cot") and c.env["TASK"] == "maths")
    assert cot.env["TRAIN_FILE"].endswith("maths_cot.jsonl")
    qa_lumos = next(c for c in fake.calls if "eval.hotpotqa.run_eval" in c.argv and "lumos_onetime" in c.argv)
    assert arg(qa_lumos.argv, "--corpus").endswith("ircot_dev_subsampled.jsonl")
    qa_direct = next(c for c in fake.calls if "eval.hotpotqa.run_eval" in c.argv and "direct" in c.argv)
    assert "--corpus" not in qa_direct.argv
    assert len(summary["rows"]) == 24 and {r["agent"] for r in summary["rows"]} >= {"Lumos-I", "base, Lumos-I prompts", "base, Lumos-O prompts"}
    table = (study.run_dir / "table.md").read_text()
    assert "| Lumos-O | 33.3 (3) | 33.3 (3) | 33.3 (3) | gsm acc 50.5, svamp acc 65.5, hotpotqa em 24.9, " \
           "hotpotqa llm_acc 39.2 |" in table
    assert table.splitlines()[0].endswith("| paper (arXiv 2311.05657 (v1/v2 tables), Llama-2-7B) |")
    assert "| direct-trained |" in table and "| not reported |" in table and "| base, CoT prompts |" in table
    assert summary["paper"]["results"]["CoT-trained"]["gsm acc"] == 40.4
    assert (study.run_dir / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert "| gsm acc | Lumos-I vs Lumos-O | 3 | 33.3 | 33.3 | +0.0 | 0 / 0 | 1 |" in table
    assert "| Lumos-I | gsm | done 2, parse_error 1 |" in table
    assert len([c for c in summary["comparisons"] if c["benchmark"] == "svamp"]) == 9
    assert "Lumos-I" in capsys.readouterr().out
    again = FakeExecutor()
    reproduce.run_study(study, execute=again)
    assert again.calls == []


def test_study_needs_the_data(study):
    with pytest.raises(FileNotFoundError, match="LUMOS_DATA_DIR"):
        reproduce.build_study_stages(reproduce.StudyConfig(**{**study.__dict__, "data_dir": study.out_dir / "none"}))


def test_markdown_table_layout():
    from lumos.plots import markdown_table

    rows = [{"agent": "A", "benchmark": "gsm", "metric": "acc", "value": 0.5, "n": 4},
            {"agent": "B", "benchmark": "svamp", "metric": "acc", "value": 0.25, "n": 4}]
    assert markdown_table(rows).splitlines() == ["| agent | gsm acc (n) | svamp acc (n) |", "|---|---|---|",
                                                 "| A | 50.0 (4) | — |", "| B | — | 25.0 (4) |"]


def test_study_with_two_jobs_runs_the_same_stages_after_their_inputs(study):
    fake = FakeExecutor()
    summary = reproduce.run_study(study, execute=fake, jobs=2)
    assert len(summary["stages"]) == 38 and all(s["status"] == "ran" for s in summary["stages"])
    seen: list[str] = []
    checked = 0
    for c in fake.calls:  # every model's training comes after its data, every evaluation after its models
        if c.argv[:2] == ("bash", "train.sh"):
            assert any(f"--domain {c.env['TASK']}" in " ".join(p.argv) for p in fake.calls[: fake.calls.index(c)])
            seen.append(Path(c.env["OUTPUT_DIR"]).name)
        elif any(a.startswith("eval.") for a in c.argv) and "/base_" not in arg(c.argv, "--save_dir"):
            formulation = arg(c.argv, "--formulation")
            domain = "complex_qa" if "eval.hotpotqa.run_eval" in c.argv else "maths"
            needed = [s.name.removeprefix("train-") for s in reproduce.build_study_stages(study)
                      if s.name.startswith("train-") and s.commands[0].env["TASK"] == domain
                      and s.commands[0].env["TRAIN_FILE"].endswith(
                          (f"_{formulation.removeprefix('lumos_')}.jsonl", f"{domain}_{formulation}.jsonl"))]
            assert needed and set(needed) <= set(seen), (formulation, domain, needed)
            checked += 1
    assert checked == 12
    again = FakeExecutor()
    reproduce.run_study(study, execute=again, jobs=2)
    assert again.calls == []


def test_paired_comparison_counts_discordant_pairs_and_tests_them_exactly():
    from lumos.metrics import paired_comparison

    a = {str(i): 1.0 for i in range(10)} | {"x": 0.0}
    b = {str(i): 0.0 for i in range(10)} | {"x": 1.0, "only_b": 1.0}
    c = paired_comparison(a, b)
    assert (c.n, c.a_only, c.b_only) == (11, 10, 1) and round(c.diff, 3) == round(9 / 11, 3)
    assert abs(c.p_value - 0.01171875) < 1e-9  # 2 * P(X <= 1), X ~ Binomial(11, 1/2)
    assert paired_comparison(a, a).p_value == 1.0
    with pytest.raises(ValueError, match="share no"):
        paired_comparison(a, {"y": 1.0})


def test_report_only_runs_nothing_and_reports_what_is_finished(study):
    nothing = FakeExecutor()
    empty = reproduce.run_study(study, execute=nothing, report_only=True)
    assert nothing.calls == [] and empty["rows"] == [] and len(empty["missing_stages"]) == 38
    partial = reproduce.StudyConfig(**{**study.__dict__, "benchmarks": ("gsm",), "floor": False})
    reproduce.run_study(partial, execute=FakeExecutor())
    summary = reproduce.run_study(study, execute=nothing, report_only=True)
    assert nothing.calls == []
    assert {r["benchmark"] for r in summary["rows"]} == {"gsm"} and len(summary["rows"]) == 4
    assert "eval-svamp-lumos_iterative" in summary["missing_stages"] and "train-maths_cot" not in summary["missing_stages"]
    assert "| Lumos-I | gsm acc" not in (study.run_dir / "table.md").read_text()  # agents are rows
    assert "Lumos-I vs Lumos-O" in (study.run_dir / "table.md").read_text()


def test_a_smaller_floor_changes_only_the_floor_stages(study):
    base = {s.name: s.fingerprint for s in reproduce.build_study_stages(study)}
    small = reproduce.build_study_stages(reproduce.StudyConfig(**{**study.__dict__, "n_floor": 2}))
    changed = {s.name for s in small if s.fingerprint != base[s.name]}
    assert changed == {s.name for s in small if "-base_" in s.name} and len(changed) == 12
    floor = next(s for s in small if s.name == "eval-gsm-base_cot")
    assert arg(floor.commands[0].argv, "--max_num_examples") == "2"
