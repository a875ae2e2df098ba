"""Raw-data readers: records, pseudo plans (docs/original.md, "Raw training data"), source detection, and errors naming file / line / field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lumos.conversion.sources import (
    detect_source,
    gsm8k_plan,
    load_source,
    musique_human_solution,
    strategyqa_human_solution,
    strategyqa_step_evidence,
)
from lumos.utils.io import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conversion"


@pytest.mark.parametrize(("path", "source"), [
    ("../shared/data/gsm8k/train.jsonl", "gsm8k"),
    ("data/train/maths/raw_data/gsm8k_train_socratic.jsonl", "gsm8k"),
    ("data/train/maths/raw_data/prm800k_phase2_train.jsonl", "prm800k"),
    ("../shared/data/math/train.jsonl", "math"),
    ("data/train/maths/raw_data/asdiv.xml", "asdiv"),
    ("data/train/maths/raw_data/asdiv_train.jsonl", "asdiv"),
    ("data/train/complex_qa/raw_data/strategyqa_train.json", "strategyqa"),
    ("data/train/complex_qa/raw_data/musique_full_v1.0_train.jsonl", "musique"),
    ("data/train/web_agent/raw_data/train_3.json", "mind2web"),
    ("data/train/multimodal/raw_data/aokvqa_v1p0_train.json", "aokvqa"),
])
def test_detect_source(path, source):
    assert detect_source(path) == source


def test_detect_source_unknown_names_the_file():
    with pytest.raises(DataFormatError, match=r"notes\.jsonl.*--source"):
        detect_source("data/train/maths/raw_data/notes.jsonl")


def test_records_have_stable_ids_tasks_plans_and_answers():
    gsm = load_source(FIXTURES / "gsm8k_train.jsonl")
    assert [r.id for r in gsm[:2]] == ["gsm8k:gsm8k_train:0", "gsm8k:gsm8k_train:1"]
    assert gsm[0].plan == ("After lending, the library has 120 - 45 = <<120-45=75>>75 books. "
                           "With the new books it has 75 + 30 = <<75+30=105>>105 books.")
    assert gsm[0].ans == "105" and gsm[0].domain == "maths" and gsm[0].where.endswith("gsm8k_train.jsonl:1")
    asdiv = load_source(FIXTURES / "asdiv.xml")
    assert asdiv[0].task == "Lena picked 8 pears and Omar picked 5 pears. How many pears did they pick?"
    assert (asdiv[0].plan, asdiv[0].ans) == ("8+5=13", "13")
    assert asdiv[3].raw["formula"] == "9 apples(Tom) > 7 apples(Mia)"
    assert load_source(FIXTURES / "asdiv.jsonl")[0].plan == "8+5=13"
    prm = load_source(FIXTURES / "prm800k.jsonl")
    assert (prm[0].task, prm[0].ans) == ("What is $2+3$?", "5") and prm[1].plan is None
    math = load_source(FIXTURES / "math.jsonl")
    assert [r.ans for r in math] == ["2", "\\frac{4}{2}"] and math[0].id == "train/prealgebra/1"
    web = load_source(FIXTURES / "mind2web")
    assert web[0].plan == ["[link]  Laptops -> CLICK", "[combobox]  Sort by -> SELECT: Price: Low to High"]
    aok = load_source(FIXTURES / "aokvqa_train.json")
    assert aok[0].task == "What is the dog about to catch? Options: frisbee, ball, stick, bone." and aok[0].ans == "frisbee"


def test_gsm8k_socratic_plan_keeps_the_original_split():
    line = {"question": "q", "answer": "How many? ** 2 * 3 = <<2*3=6>>6\nAnd then? ** 6 + 1 = <<6+1=7>>7\n#### 7"}
    assert gsm8k_plan(line["answer"]) == "2 * 3 = <<2*3=6>>6\nAnd then? 6 + 1 = <<6+1=7>>7\n"


def test_strategyqa_pseudo_plan():
    recs = load_source(FIXTURES / "strategyqa_train.json")
    assert recs[0].plan == (
        "We find relevant facts: Kestrel Bay was founded in 1821. The Larkspur Bridge was built in 1903. We need to "
        "answer these questions: 1. When was Kestrel Bay founded? (Can be answered based on paragraph 'Kestrel Bay-1') "
        "2. When was the Larkspur Bridge built? (Can be answered based on paragraph 'Larkspur Bridge-2') 3. Is #1 before "
        "#2? Based on these evidences and decomposed questions, the answer is True."
    )
    assert recs[1].plan is None  # every annotator has a no_evidence step (the original skipped it)
    relaxed = strategyqa_step_evidence(recs[1].raw, relaxed=True)
    assert relaxed == [["Marrow River-1"], ["Cargo ship-4"], []]
    assert strategyqa_human_solution(recs[1].raw, relaxed).endswith("the answer is False.")
    assert strategyqa_step_evidence(recs[3].raw, relaxed=True) is None


def test_musique_pseudo_plan_and_support_index_zero():
    recs = load_source(FIXTURES / "musique_train.jsonl")
    assert recs[0].plan == (
        "We find relevant facts:  The Marrow River flows through the town of Kestrel Bay. Kestrel Bay was founded by "
        "Ada Fenwick in 1821. We need to answer these questions: 1. Which town does the Marrow River flow through? (Can "
        "be answered based on paragraph 'Marrow River') 2. Who founded #1? (Can be answered based on paragraph 'Kestrel "
        "Bay') Based on these evidences and decomposed questions, the answer is Ada Fenwick."
    )
    assert musique_human_solution(recs[0].raw) == recs[0].plan
    assert recs[0].id == "2hop__1_2"  # paragraph_support_idx 0 counts as support (the original dropped it)
    assert recs[2].plan is None  # a step without a supporting paragraph


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_gsm8k_errors_name_file_line_and_field(tmp_path):
    path = _write(tmp_path / "gsm8k_train.jsonl", [{"question": "q", "answer": "1\n#### 1"}, {"question": "q", "answer": "no gold"}])
    with pytest.raises(DataFormatError, match=r"gsm8k_train\.jsonl:2: field 'answer'"):
        load_source(path)
    _write(path, [{"question": "q", "answer": "#### 1"}, {"answer": "#### 2"}])
    with pytest.raises(DataFormatError, match=r"gsm8k_train\.jsonl:2: missing field 'question'"):
        load_source(path)
    _write(path, [{"question": "q", "answer": "#### 1"}, "{not json"])
    with pytest.raises(DataFormatError, match=r"gsm8k_train\.jsonl:2: not valid JSON"):
        load_source(path)


def test_asdiv_xml_error_names_problem_and_line(tmp_path):
    path = tmp_path / "asdiv.xml"
    path.write_text("<ProblemSet>\n<Problem ID=\"p-1\">\n<Body>b</Body><Question>q</Question><Answer>1</Answer>\n"
                    "</Problem>\n</ProblemSet>\n")
    with pytest.raises(DataFormatError, match=r"asdiv\.xml:2 \(Problem ID=p-1\): missing <Formula>"):
        load_source(path)
    path.write_text("<ProblemSet><Problem>")
    with pytest.raises(DataFormatError, match=r"asdiv\.xml:1: not valid XML"):
        load_source(path)


def test_strategyqa_error_names_record_and_field(tmp_path):
    data = json.loads((FIXTURES / "strategyqa_train.json").read_text())
    data[2]["answer"] = "yes"
    path = tmp_path / "strategyqa_train.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match=r"record 2 \(qid t3\): field 'answer' has type str"):
        load_source(path)
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(DataFormatError, match="expected a JSON list"):
        load_source(path)


def test_musique_error_names_the_step(tmp_path):
    rec = json.loads((FIXTURES / "musique_train.jsonl").read_text().splitlines()[0])
    rec["question_decomposition"][1]["paragraph_support_idx"] = 9
    path = _write(tmp_path / "musique_train.jsonl", [rec])
    with pytest.raises(DataFormatError, match=r"musique_train\.jsonl:1: question_decomposition\[1\]\.paragraph_support_idx=9"):
        load_source(path)
    rec["paragraphs"] = ["just text"]
    _write(path, [rec])
    with pytest.raises(DataFormatError, match=r"paragraphs\[0\]"):
        load_source(path)


def test_mind2web_error_names_task_and_field(tmp_path):
    folder = tmp_path / "mind2web"
    folder.mkdir()
    (folder / "train_1.json").write_text(json.dumps([{"confirmed_task": "t", "action_reprs": "not a list"}]))
    with pytest.raises(DataFormatError, match=r"train_1\.json: task 0: field 'action_reprs'"):
        load_source(folder)
    empty = tmp_path / "empty_mind2web"
    empty.mkdir()
    with pytest.raises(DataFormatError, match="no Mind2Web train file"):
        load_source(empty, "mind2web")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="gsm8k_missing.jsonl"):
        load_source(tmp_path / "gsm8k_missing.jsonl")
