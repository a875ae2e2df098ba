"""Rule conversion of complex-QA sources with gold decompositions: StrategyQA and MuSiQue.

Every decomposition step backed by paragraphs becomes ``KnowledgeQuery`` + ``ParagraphRetrieve`` per page and a
``QA`` over the retrieved paragraphs (and the results of the steps it refers to with ``#k``); a step without
paragraphs (StrategyQA's ``operation``) combines earlier results with ``Calculator`` (a numeric comparison whose
value checks out, answered ``yes``/``no`` as the evaluation's Calculator answers it) or ``QA``. A StrategyQA step::

    Subgoal 1: Answer the question: How many kids did Julius Caesar have?
    Action 1-1: R1 = KnowledgeQuery(Julius Caesar) = WikipediaPage(Julius Caesar)
    Action 1-2: R2 = ParagraphRetrieve(R1, Query: How many kids did Julius Caesar have?) = Paragraph(Julius Caesar-75)
    Action 1-3: R3 = QA([R2], Question: How many kids did Julius Caesar have?) = 3

StrategyQA has no per-step answers: a quantity question takes the number of its best-matching fact, any other
question the fact itself; the last step answers the gold ``True``/``False``. MuSiQue steps carry their answers.

Exercise: ``pytest tests/conversion/test_conv_rule.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lumos.conversion.rule_plan import PlanBuilder, RuleError, one_line
from lumos.conversion.sources import SourceRecord, musique_step_question, strategyqa_step_evidence

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for is are was were be by and or do does did have has had what which who how many much".split()
)
_REF = re.compile(r"#(\d+)")
_QUANTITY = re.compile(r"(?i)^(how (many|much|old|long|tall|far|big|large|heavy|high|fast|often)|what (year|percentage|number)|when)\b")
_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_GREATER = "greater|more|larger|bigger|higher|longer|taller|heavier|older|exceed|exceeds|after|later"
_LESS = "less|fewer|smaller|lower|shorter|lighter|younger|before|earlier"
_COMPARE = re.compile(rf"#(\d+)\b.*?\b(?:({_GREATER})|({_LESS}))\b.*?#(\d+)", re.I)


def _tokens(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _best_fact(question: str, facts: Sequence[str], titles: Sequence[str], step: int) -> str:
    """The fact sharing most words with the question and page titles; ties go to the fact nearest the step's
    position (StrategyQA facts tend to follow the decomposition order)."""
    if not facts:
        return "No answer"
    query = _tokens(question + " " + " ".join(titles))
    best = max(range(len(facts)), key=lambda i: (len(query & _tokens(facts[i])), -abs(i - step)))
    return facts[best]


def _number_in(text: str) -> float | None:
    """The single number a text states (digits or a small number word), else None."""
    digits = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)
    if len(digits) == 1:
        return float(digits[0].replace(",", ""))
    if not digits:
        words = [w for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS]
        if len(words) == 1:
            return float(_NUMBER_WORDS[words[0]])
    return None


def _format(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _title(paragraph_id: str) -> str:
    return paragraph_id.rsplit("-", 1)[0] if re.search(r"-\d+$", paragraph_id) else paragraph_id


def _retrieve(plan: PlanBuilder, query: str, paragraph_ids: Sequence[str]) -> list[str]:
    """``KnowledgeQuery`` + ``ParagraphRetrieve`` per distinct page; returns the paragraph variables."""
    pages: dict[str, list[str]] = {}
    for pid in paragraph_ids:
        pages.setdefault(_title(pid), []).append(pid)
    out = []
    for title, pids in pages.items():
        page = plan.action("KnowledgeQuery", title, f"WikipediaPage({title})")
        paragraphs = ", ".join(f"Paragraph({p})" for p in dict.fromkeys(pids))
        out.append(plan.action("ParagraphRetrieve", f"{page}, Query: {query}", paragraphs))
    return out


def _referenced(question: str, step_vars: Mapping[int, str]) -> list[str]:
    return [step_vars[k] for k in dict.fromkeys(int(m) for m in _REF.findall(question)) if k in step_vars]


def convert_strategyqa(record: SourceRecord) -> str:
    """The subgoal plan of a StrategyQA record. Raises ``RuleError`` when no step has paragraph evidence."""
    rec: Mapping[str, Any] = record.raw
    refs = strategyqa_step_evidence(rec, relaxed=True)
    if refs is None:
        raise RuleError("no annotator gives paragraph evidence for any step")
    steps: list[str] = [one_line(q) for q in rec["decomposition"]]
    facts: list[str] = [one_line(f) for f in rec["facts"]]
    gold = str(rec["answer"])
    plan = PlanBuilder()
    step_vars: dict[int, str] = {}
    step_values: dict[int, float | None] = {}
    for k, question in enumerate(steps, 1):
        last = k == len(steps)
        plan.subgoal(f"Answer the question: {question}")
        context = _referenced(question, step_vars)
        if refs[k - 1]:
            context = _retrieve(plan, question, refs[k - 1]) + context
            fact = _best_fact(question, facts, [_title(p) for p in refs[k - 1]], k - 1)
            number = _number_in(fact) if _QUANTITY.match(question) else None
            answer = gold if last else (_format(number) if number is not None else fact)
            step_values[k] = number
            step_vars[k] = plan.action("QA", f"[{', '.join(context)}], Question: {question}", answer)
            continue
        compare = _COMPARE.search(question)
        if compare:
            a, b = int(compare.group(1)), int(compare.group(4))
            va, vb = step_values.get(a), step_values.get(b)
            if va is not None and vb is not None and a in step_vars and b in step_vars:
                op = ">" if compare.group(2) else "<"
                truth = va > vb if op == ">" else va < vb
                value = "yes" if truth else "no"  # the form the evaluation's Calculator answers a yes/no question in
                if not last or str(truth) == gold:
                    step_vars[k] = plan.action("Calculator", f"{step_vars[a]} {op} {step_vars[b]}", value)
                    step_values[k] = None
                    continue
        context = context or list(step_vars.values())[-2:]
        answer = gold if last else _best_fact(question, facts, [], k - 1)
        step_vars[k] = plan.action("QA", f"[{', '.join(context)}], Question: {question}", answer)
        step_values[k] = None
    return plan.render()


def convert_musique(record: SourceRecord) -> str:
    """One KnowledgeQuery / ParagraphRetrieve / QA triple per MuSiQue step, ``#k`` filled with step k's answer."""
    rec: Mapping[str, Any] = record.raw
    paragraphs = {p["idx"]: p for p in rec["paragraphs"]}
    steps = rec["question_decomposition"]
    if not steps:
        raise RuleError("empty question_decomposition")
    answers: list[str] = []
    plan = PlanBuilder()
    for k, step in enumerate(steps, 1):
        support = step.get("paragraph_support_idx")
        if support is None or support not in paragraphs:
            raise RuleError(f"step {k} has no supporting paragraph")
        question = one_line(musique_step_question(step["question"], answers))
        answer = one_line(str(rec["answer"] if k == len(steps) else step.get("answer", "")))
        if not answer:
            raise RuleError(f"step {k} has no answer")
        title = one_line(paragraphs[support]["title"])
        plan.subgoal(f"Answer the question: {question}")
        page = plan.action("KnowledgeQuery", title, f"WikipediaPage({title})")
        para = plan.action("ParagraphRetrieve", f"{page}, Query: {question}", f"Paragraph({title})")
        plan.action("QA", f"[{para}], Question: {question}", answer)
        answers.append(answer)
    return plan.render()
