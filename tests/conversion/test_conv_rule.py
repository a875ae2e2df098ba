"""The LLM-free rule backend: exact plans for small hand-written fixtures, the grammar round trip, and the
done-when measurements on the real GSM8K / StrategyQA train files (skipped without ../shared/data)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from lumos.conversion import to_train
from lumos.conversion.arith import ArithmeticParseError, evaluate, format_number, parse_number
from lumos.conversion.rule_backend import rule_convert
from lumos.conversion.rule_plan import PlanBuilder, RuleError
from lumos.conversion.sources import load_source
from lumos.formats import parse_converted_action, parse_converted_plan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conversion"


def plans(name: str) -> list[str | RuleError]:
    out: list[str | RuleError] = []
    for record in load_source(FIXTURES / name):
        try:
            out.append(rule_convert(record)["subgoal_plan"])
        except RuleError as e:
            out.append(e)
    return out


def test_arithmetic_is_exact_and_refuses_other_text():
    assert evaluate("100-50-30-15") == 5
    assert evaluate("(2+3)*-4/8") == Fraction(-5, 2)
    assert evaluate(".25*4") == 1
    assert format_number(Fraction(10, 4)) == "2.5" and format_number(Fraction(1, 3)) == "0.333333"
    assert parse_number("$1,200.50") == Fraction(240100, 200) and parse_number("12 apples") is None
    for bad in ("__import__('os')", "2**3", "1/0", "(1+2", ""):
        with pytest.raises(ArithmeticParseError):
            evaluate(bad)


def test_gsm8k_lines_become_calculator_subgoals_with_r_variables():
    out = plans("gsm8k_train.jsonl")
    assert out[0] == (
        "Subgoal 1: After lending, the library has 120 - 45 books.\n"
        "Action 1-1: R1 = Calculator(120-45) = 75\n\n"
        "Subgoal 2: With the new books it has 75 + 30 books.\n"
        "Action 2-1: R2 = Calculator(R1+30) = 105"
    )
    assert out[1] == (
        "Subgoal 1: The notebooks cost 4 * 2.50.\n"
        "Action 1-1: R1 = Calculator(4*2.5) = 10\n\n"
        "Subgoal 2: His change is 20 - 10.\n"
        "Action 2-1: R2 = Calculator(20-R1) = 10"
    )
    # an unmarked "60 * 3 = 180" whose arithmetic checks out is used too
    assert out[2] == (
        "Subgoal 1: First it goes 60 * 3 miles.\n"
        "Action 1-1: R1 = Calculator(60 * 3) = 180\n\n"
        "Subgoal 2: Then it goes 40 * 2 miles.\n"
        "Action 2-1: R2 = Calculator(40*2) = 80\n\n"
        "Subgoal 3: In total it goes 180 + 80 miles.\n"
        "Action 3-1: R3 = Calculator(R1+R2) = 260"
    )
    assert isinstance(out[3], RuleError) and "no calculation" in str(out[3])
    assert isinstance(out[4], RuleError) and "differs from the gold answer 31" in str(out[4])


def test_asdiv_formula_equations_in_order():
    out = plans("asdiv.xml")
    assert out[0] == "Subgoal 1: Calculate how many pears did they pick.\nAction 1-1: R1 = Calculator(8+5) = 13"
    assert out[1] == ("Subgoal 1: Calculate 24/4.\nAction 1-1: R1 = Calculator(24/4) = 6\n\n"
                      "Subgoal 2: Calculate how many teams are left.\nAction 2-1: R2 = Calculator(R1-2) = 4")
    assert out[2] == "Subgoal 1: Calculate how many cents does he have.\nAction 1-1: R1 = Calculator(3*10+2*5) = 40"
    assert isinstance(out[3], RuleError)


def test_strategyqa_retrieval_per_fact_then_combination():
    out = plans("strategyqa_train.json")
    assert out[0] == (
        "Subgoal 1: Answer the question: When was Kestrel Bay founded?\n"
        "Action 1-1: R1 = KnowledgeQuery(Kestrel Bay) = WikipediaPage(Kestrel Bay)\n"
        "Action 1-2: R2 = ParagraphRetrieve(R1, Query: When was Kestrel Bay founded?) = Paragraph(Kestrel Bay-1)\n"
        "Action 1-3: R3 = QA([R2], Question: When was Kestrel Bay founded?) = 1821\n\n"
        "Subgoal 2: Answer the question: When was the Larkspur Bridge built?\n"
        "Action 2-1: R4 = KnowledgeQuery(Larkspur Bridge) = WikipediaPage(Larkspur Bridge)\n"
        "Action 2-2: R5 = ParagraphRetrieve(R4, Query: When was the Larkspur Bridge built?) = Paragraph(Larkspur Bridge-2)\n"
        "Action 2-3: R6 = QA([R5], Question: When was the Larkspur Bridge built?) = 1903\n\n"
        "Subgoal 3: Answer the question: Is #1 before #2?\n"
        "Action 3-1: R7 = Calculator(R3 < R6) = yes"  # a comparison answers its yes/no question yes/no
    )
    # no complete annotator: each step's paragraphs come from the first annotator that has some
    assert "KnowledgeQuery(Marrow River)" in out[1] and "KnowledgeQuery(Cargo ship)" in out[1]
    assert out[1].endswith("R7 = QA([R3, R6], Question: Is #1 deep enough for #2?) = False")
    assert "= 5\n" in out[2] and out[2].endswith("R7 = Calculator(R3 > R6) = yes")  # "five children" -> 5
    assert isinstance(out[3], RuleError)


def test_musique_decomposition_fills_in_earlier_answers():
    out = plans("musique_train.jsonl")
    assert out[0] == (
        "Subgoal 1: Answer the question: Which town does the Marrow River flow through?\n"
        "Action 1-1: R1 = KnowledgeQuery(Marrow River) = WikipediaPage(Marrow River)\n"
        "Action 1-2: R2 = ParagraphRetrieve(R1, Query: Which town does the Marrow River flow through?) = Paragraph(Marrow River)\n"
        "Action 1-3: R3 = QA([R2], Question: Which town does the Marrow River flow through?) = Kestrel Bay\n\n"
        "Subgoal 2: Answer the question: Who founded Kestrel Bay?\n"
        "Action 2-1: R4 = KnowledgeQuery(Kestrel Bay) = WikipediaPage(Kestrel Bay)\n"
        "Action 2-2: R5 = ParagraphRetrieve(R4, Query: Who founded Kestrel Bay?) = Paragraph(Kestrel Bay)\n"
        "Action 2-3: R6 = QA([R5], Question: Who founded Kestrel Bay?) = Ada Fenwick"
    )
    assert "Question: What is the bridge of Kestrel Bay?) = Larkspur Bridge" in out[1]
    assert "Question: When was Larkspur Bridge built?) = 1903" in out[1]
    assert isinstance(out[2], RuleError) and "step 2" in str(out[2])


def test_mind2web_one_subgoal_per_action():
    out = plans("mind2web/train_0.json")
    assert out[0] == (
        "Subgoal 1: Click on Laptops.\nAction 1-1: R1 = CLICK(Env, QUERY: Click on Laptops)\n\n"
        "Subgoal 2: Select Price: Low to High in Sort by.\n"
        "Action 2-1: R2 = SELECT(R1, QUERY: Select Price: Low to High in Sort by, TEXT: Price: Low to High)"
    )
    assert "Subgoal 2: Click on Boston, MA (BOS).\nAction 2-1: R2 = CLICK(R1, QUERY: Click on Boston, MA (BOS))" in out[1]
    assert "Subgoal 4: Click on the button.\nAction 4-1: R4 = CLICK(R3, QUERY: Click on the button)" in out[1]
    # HOVER (and ENTER) are CLICKs in Mind2Web's own op field.
    assert out[2] == "Subgoal 1: Click on Menu.\nAction 1-1: R1 = CLICK(Env, QUERY: Click on Menu)"


@pytest.mark.parametrize(("text", "expected"), [
    ("Pick-up & Return Location (ZIP, City or Airport) (...", "Pick-up & Return Location (ZIP, City or Airport)"),
    ("Guangzhou Baiyun International Airport(C...", "Guangzhou Baiyun International Airport"),
    ("Boston, MA (BOS)", "Boston, MA (BOS)"),
    ("Sale ends) today [now", "Sale ends today now"),
])
def test_mind2web_cut_texts_are_balanced(text, expected):
    from lumos.conversion.rule_web import balance_brackets

    assert balance_brackets(text) == expected


def test_mind2web_actions_parse_with_the_eval_grammar():
    from lumos.conversion.rule_web import convert_mind2web
    from lumos.conversion.sources import SourceRecord
    from lumos.formats.actions import parse_actions

    reprs = ["[searchbox]  Pick-up & Return Location (ZIP, City or Airport) (... -> TYPE: Brooklyn",
             "[div]  Menu -> ENTER", "[span]  Offers -> HOVER"]
    plan = convert_mind2web(SourceRecord("x", "mind2web", "Rent a van.", reprs, None, "here", {"action_reprs": reprs}))
    actions = [line.split(": ", 1)[1] for line in plan.splitlines() if line.startswith("Action ")]
    assert actions[0] == "R1 = TYPE(Env, QUERY: Type Brooklyn in Pick-up & Return Location (ZIP, City or Airport), TEXT: Brooklyn)"
    assert [parse_actions(a)[0].name for a in actions] == ["TYPE", "CLICK", "CLICK"]


@pytest.mark.parametrize("name", ["gsm8k_train.jsonl", "asdiv.xml", "strategyqa_train.json", "musique_train.jsonl",
                                  "mind2web/train_0.json"])
def test_rule_plans_parse_with_lumos_formats_and_build_training_data(name, tmp_path):
    domain = load_source(FIXTURES / name)[0].domain
    records = []
    for record in load_source(FIXTURES / name):
        try:
            rec = rule_convert(record)
        except RuleError:
            continue
        assert set(rec) >= {"id", "source", "task", "natural_language_plan", "subgoal_plan"}
        for block in parse_converted_plan(rec["subgoal_plan"]):
            for line in block.action_lines:
                parse_converted_action(line, web=domain == "web_agent")
        records.append(rec)
    conv = tmp_path / "converted"
    conv.mkdir()
    (conv / "rule_converted.json").write_text("".join(json.dumps(r) + "\n" for r in records))
    for formulation in ("lumos_iterative", "lumos_onetime"):
        for report in to_train.build_lumos(domain, conv, tmp_path / "out", formulation):
            assert report.rows == len(records) and not report.dropped and not report.dropped_degenerate


def test_plan_builder_refuses_what_the_grammar_cannot_carry():
    plan = PlanBuilder()
    with pytest.raises(RuleError):
        plan.action("Calculator", "1+1", "2")
    plan.subgoal("Add.")
    with pytest.raises(RuleError, match="unbalanced"):
        plan.action("QA", "[R1], Question: what (is it?", "x")
    with pytest.raises(RuleError, match="no subgoal|no action"):
        plan.render()


def test_gsm8k_train_rule_conversion_reaches_the_gold_answer(shared_data):
    """Done-when: >= 6,900 of the 7,473 GSM8K train records end in an action whose result is the gold answer."""
    records = load_source(shared_data / "gsm8k" / "train.jsonl")
    assert len(records) == 7473
    hits = 0
    for record in records:
        try:
            rec = rule_convert(record)
        except RuleError:
            continue
        last_line = parse_converted_plan(rec["subgoal_plan"])[-1].action_lines[-1]
        _, result = parse_converted_action(last_line)
        hits += parse_number(result) == parse_number(record.ans or "")
    assert hits >= 6900


def test_strategyqa_train_rule_conversion_uses_knowledge_and_qa(shared_data):
    """Done-when: >= 1,800 StrategyQA train records with KnowledgeQuery and QA actions."""
    hits = 0
    for record in load_source(shared_data / "strategyqa" / "train.json"):
        try:
            names = {parse_converted_action(line)[0].name
                     for block in parse_converted_plan(rule_convert(record)["subgoal_plan"]) for line in block.action_lines}
        except RuleError:
            continue
        hits += {"KnowledgeQuery", "QA"} <= names
    assert hits >= 1800


def test_rule_rerun_converts_only_what_is_missing(tmp_path):
    from lumos.conversion import convert

    out = tmp_path / "conv" / "gsm8k_converted.json"
    argv = ["--backend", "rule", "--domain", "maths", "--data_fn", str(FIXTURES / "gsm8k_train.jsonl"), "--convert_all",
            "--output", str(out)]
    assert convert.main(argv) == 0
    first = out.read_text().splitlines()
    failed = [json.loads(x)["id"] for x in (out.parent / (out.name + ".failed.jsonl")).read_text().splitlines()]
    assert len(first) == 3 and failed == ["gsm8k:gsm8k_train:3", "gsm8k:gsm8k_train:4"]
    out.write_text("\n".join(first[:2]) + "\n" + first[2][:40])  # lose one record and tear the last line
    assert convert.main(argv) == 0
    again = out.read_text().splitlines()
    assert sorted(again) == sorted(first)  # the lost record is back, nothing duplicated
    assert len((out.parent / (out.name + ".failed.jsonl")).read_text().splitlines()) == 2  # compacted, not doubled
    metrics = json.loads((out.parent / (out.name + ".metrics.json")).read_text())
    assert metrics["counts"]["already_done"] == 2 and metrics["counts"]["converted"] == 1


def test_default_output_paths_follow_the_original(tmp_path):
    from lumos.conversion.convert import default_output, main

    root = tmp_path
    kw = {"root": root}
    assert default_output("maths", "gsm8k", Path("x/gsm8k_train.jsonl"), convert_all=True, st_idx=0, ed_idx=0, **kw) == \
        root / "maths/converted/gsm8k_train_converted.json"
    assert default_output("maths", "gsm8k", Path("../shared/data/gsm8k/train.jsonl"), convert_all=False, st_idx=0,
                          ed_idx=100, **kw) == root / "maths/converted/gsm8k_train_converted_0_100.json"
    assert default_output("maths", "prm800k", Path("prm800k_phase2_train.jsonl"), convert_all=True, st_idx=0, ed_idx=0,
                          **kw) == root / "maths/converted/prm800k_converted_10000.json"
    assert default_output("complex_qa", "strategyqa", Path("train.json"), convert_all=False, st_idx=5, ed_idx=9,
                          **kw) == root / "complex_qa/converted/strategyqa_converted_5_9.json"
    assert main(["--domain", "maths", "--data_fn", str(FIXTURES / "gsm8k_train.jsonl"), "--backend", "rule"]) == 2
    assert main(["--domain", "complex_qa", "--data_fn", str(FIXTURES / "gsm8k_train.jsonl"), "--backend", "rule",
                 "--convert_all", "--output", str(tmp_path / "o.json")]) == 2
