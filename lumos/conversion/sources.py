"""Readers for the raw benchmark files the annotation conversion starts from (docs/original.md, "Raw training data").

Each reader returns ``SourceRecord``s with a stable id (``<source>:<file stem>:<index in the file>``), the task,
the natural-language plan the converter is shown, the gold answer and the raw record (the rule backend reads its
structured fields). A GSM8K line::

    {"question": "Natalia sold clips to 48 of her friends ...", "answer": "Natalia sold 48/2 = <<48/2=24>>24 ...\\n#### 72"}

Malformed input raises ``DataFormatError`` naming the file, the line (or XML problem id) and the field.
Exercise: ``pytest tests/conversion/test_conv_sources.py``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lumos.utils.io import DataFormatError, iter_jsonl, read_json, read_text, require_field

SourceName = Literal["gsm8k", "asdiv", "prm800k", "math", "strategyqa", "musique", "mind2web", "aokvqa"]
SOURCES: tuple[str, ...] = ("gsm8k", "asdiv", "prm800k", "math", "strategyqa", "musique", "mind2web", "aokvqa")
SOURCE_DOMAIN: Mapping[str, str] = {
    "gsm8k": "maths",
    "asdiv": "maths",
    "prm800k": "maths",
    "math": "maths",
    "strategyqa": "complex_qa",
    "musique": "complex_qa",
    "mind2web": "web_agent",
    "aokvqa": "multimodal",
}
# Substrings of a file or folder name that identify the source; checked in this order (``prm`` before ``math``).
_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("gsm", "gsm8k"),
    ("asdiv", "asdiv"),
    ("prm", "prm800k"),
    ("strategyqa", "strategyqa"),
    ("musique", "musique"),
    ("mind2web", "mind2web"),
    ("aokvqa", "aokvqa"),
    ("a-okvqa", "aokvqa"),
    ("math", "math"),
)
ANSWER_INTRO = "Based on these evidences and decomposed questions, the answer is "


@dataclass(frozen=True)
class SourceRecord:
    """One raw example, ready for conversion.

    ``plan`` is what the converter sees as the natural-language plan: a string, the raw ``action_reprs`` list for
    Mind2Web (as the original stored it), or None when the example cannot be converted by an LLM (the original
    skipped it, e.g. StrategyQA without complete evidence).
    """

    id: str
    source: str
    task: str
    plan: str | list[str] | None
    ans: str | None
    where: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def domain(self) -> str:
        return SOURCE_DOMAIN[self.source]


def detect_source(path: str | Path) -> str:
    """The source of a raw file from its name (file name first, then the enclosing folders).

    Raises:
        DataFormatError: nothing in the path identifies a known source.
    """
    path = Path(path)
    if path.suffix.lower() == ".xml":
        return "asdiv"
    if path.is_dir() or path.name.startswith("train_"):
        for part in (path.name, *(p.name for p in path.parents)):
            if "mind2web" in part.lower() or part == "web_agent":
                return "mind2web"
    for part in (path.name, *(p.name for p in path.parents)):
        low = part.lower()
        for hint, source in _NAME_HINTS:
            if hint in low and not (hint == "math" and low == "maths"):
                return source
    raise DataFormatError(f"{path}: cannot tell the source from the file name; pass --source ({', '.join(SOURCES)})")


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _str_field(rec: Mapping[str, Any], name: str, where: str) -> str:
    return require_field(dict(rec), name, where, str)


# ----------------------------------------------------------------------------------------------------------------
# maths
# ----------------------------------------------------------------------------------------------------------------
def gsm8k_plan(answer: str) -> str:
    """The natural-language plan of a GSM8K answer: the reasoning before ``####``.

    The Socratic file (``sub-question ** answer`` lines) is handled as the original did: split at ``" ** "`` and
    join all segments but the first with a space. The standard file's lines are joined with spaces.
    """
    reasoning = answer.split("####")[0]
    if " ** " in reasoning:
        return " ".join(reasoning.split(" ** ")[1:])
    return " ".join(line.strip() for line in reasoning.splitlines() if line.strip())


def read_gsm8k(path: Path) -> list[SourceRecord]:
    out = []
    for i, (line, rec) in enumerate(iter_jsonl(path)):
        where = _where(path, line)
        question, answer = _str_field(rec, "question", where), _str_field(rec, "answer", where)
        if "####" not in answer:
            raise DataFormatError(f"{where}: field 'answer' has no '#### <gold answer>' line")
        gold = answer.split("####")[1].strip()
        out.append(SourceRecord(f"gsm8k:{path.stem}:{i}", "gsm8k", question, gsm8k_plan(answer), gold, where, rec))
    return out


def _xml_line(text: str, problem_id: str) -> int:
    pos = text.find(f'ID="{problem_id}"')
    return text.count("\n", 0, max(pos, 0)) + 1


def read_asdiv(path: Path) -> list[SourceRecord]:
    """ASDiv as XML (``ASDiv.xml``; task = Body + Question, plan = Formula) or the original's jsonl
    (``question``, ``solution``, ``answer``). The gold answer is the first token of ``Answer`` (``"9 (apples)"`` -> 9)."""
    if path.suffix.lower() != ".xml":
        out = []
        for i, (line, rec) in enumerate(iter_jsonl(path)):
            where = _where(path, line)
            question, solution = _str_field(rec, "question", where), _str_field(rec, "solution", where)
            answer = str(require_field(rec, "answer", where))
            out.append(SourceRecord(f"asdiv:{path.stem}:{i}", "asdiv", question, solution, answer.split(" ")[0], where, rec))
        return out
    text = read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise DataFormatError(f"{path}:{e.position[0]}: not valid XML ({e})") from None
    out = []
    for i, prob in enumerate(root.iter("Problem")):
        pid = prob.get("ID", f"#{i}")
        where = f"{path}:{_xml_line(text, pid)} (Problem ID={pid})"
        fields = {}
        for name in ("Body", "Question", "Answer", "Formula"):
            node = prob.find(name)
            if node is None or node.text is None:
                raise DataFormatError(f"{where}: missing <{name}>")
            fields[name] = " ".join(node.text.split())
        task = f"{fields['Body']} {fields['Question']}".strip()
        raw = {"id": pid, "body": fields["Body"], "question": fields["Question"], "answer": fields["Answer"],
               "formula": fields["Formula"], "solution_type": (prob.findtext("Solution-Type") or "").strip()}
        out.append(SourceRecord(f"asdiv:{path.stem}:{i}", "asdiv", task, fields["Formula"], fields["Answer"].split(" ")[0], where, raw))
    if not out:
        raise DataFormatError(f"{path}: no <Problem> element (is this ASDiv.xml?)")
    return out


def read_prm800k(path: Path) -> list[SourceRecord]:
    """PRM800K jsonl: ``question.problem``, ``question.ground_truth_solution``, ``question.ground_truth_answer``.
    Lines without a solution or answer get ``plan=None`` (not convertible)."""
    out = []
    for i, (line, rec) in enumerate(iter_jsonl(path)):
        where = _where(path, line)
        q = require_field(rec, "question", where, dict)
        problem = require_field(q, "problem", f"{where}: question", str)
        solution, answer = q.get("ground_truth_solution"), q.get("ground_truth_answer")
        plan = solution if isinstance(solution, str) and solution and answer else None
        out.append(SourceRecord(f"prm800k:{path.stem}:{i}", "prm800k", problem, plan, answer if answer else None, where, rec))
    return out


def boxed_answer(solution: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (braces matched), as in MATH solutions."""
    start = solution.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(solution)):
        if solution[j] == "{":
            depth += 1
        elif solution[j] == "}":
            depth -= 1
            if depth == 0:
                return solution[i + 1 : j]
    return None


def read_math(path: Path) -> list[SourceRecord]:
    """MATH jsonl (PRM800K's problems): ``problem``, ``solution`` with the answer in ``\\boxed{}``."""
    out = []
    for i, (line, rec) in enumerate(iter_jsonl(path)):
        where = _where(path, line)
        problem, solution = _str_field(rec, "problem", where), _str_field(rec, "solution", where)
        ans = boxed_answer(solution)
        if ans is None:
            raise DataFormatError(f"{where}: field 'solution' has no \\boxed{{...}} answer")
        rid = rec.get("id") if isinstance(rec.get("id"), str) else f"math:{path.stem}:{i}"
        out.append(SourceRecord(rid, "math", problem, solution, ans, where, rec))
    return out


# ----------------------------------------------------------------------------------------------------------------
# complex QA
# ----------------------------------------------------------------------------------------------------------------
def strategyqa_step_evidence(rec: Mapping[str, Any], *, relaxed: bool = False) -> list[list[str]] | None:
    """Paragraph ids per decomposition step, from the first annotator with evidence for every step.

    A step's paragraph lists are flattened, so a step stays aligned with its question (the original appended one
    entry per list and could shift later steps). ``relaxed=True``: when no annotator is complete, take each step's
    paragraphs from the first annotator that has some (steps without any get ``[]``). Returns None when nothing
    usable exists.
    """
    n = len(rec["decomposition"])
    for annotator in rec["evidence"]:
        if any("no_evidence" in step for step in annotator):
            continue
        refs = [[r for item in step if isinstance(item, list) for r in item] for step in annotator]
        return (refs + [[] for _ in range(n)])[:n]
    if not relaxed:
        return None
    refs: list[list[str]] = []
    for k in range(n):
        found: list[str] = []
        for annotator in rec["evidence"]:
            if k < len(annotator):
                found = [r for item in annotator[k] if isinstance(item, list) for r in item]
                if found:
                    break
        refs.append(found)
    return refs if any(refs) else None


def strategyqa_human_solution(rec: Mapping[str, Any], step_refs: list[list[str]]) -> str:
    """The pseudo plan the converter sees::

    We find relevant facts: <facts> We need to answer these questions: 1. <q1> (Can be answered based on
    paragraph 'T-1') 2. <q2> Based on these evidences and decomposed questions, the answer is True.
    """
    text = "We find relevant facts: " + " ".join(rec["facts"]) + " We need to answer these questions: "
    for i, (q, refs) in enumerate(zip(rec["decomposition"], step_refs)):
        text += f"{i + 1}. {q} "
        if refs:
            text += "(Can be answered based on paragraph " + ", ".join(f"'{r}'" for r in refs) + ") "
    return text + f"{ANSWER_INTRO}{rec['answer']}."


def _check_strategyqa(rec: Any, where: str) -> None:
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected an object, got {type(rec).__name__}")
    require_field(rec, "question", where, str)
    require_field(rec, "answer", where, bool)
    for name in ("facts", "decomposition", "evidence"):
        require_field(rec, name, where, list)
    if not all(isinstance(q, str) for q in rec["decomposition"]):
        raise DataFormatError(f"{where}: field 'decomposition' must be a list of strings")
    for a, annotator in enumerate(rec["evidence"]):
        if not isinstance(annotator, list) or not all(isinstance(step, list) for step in annotator):
            raise DataFormatError(f"{where}: field 'evidence'[{a}] must be a list of steps (lists)")


def read_strategyqa(path: Path) -> list[SourceRecord]:
    """StrategyQA train json (one list): ``question``, ``answer`` (bool), ``facts``, ``decomposition``, ``evidence``."""
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of StrategyQA questions, got {type(data).__name__}")
    out = []
    for i, rec in enumerate(data):
        where = f"{path}: record {i}" + (f" (qid {rec.get('qid')})" if isinstance(rec, dict) and "qid" in rec else "")
        _check_strategyqa(rec, where)
        refs = strategyqa_step_evidence(rec)
        plan = strategyqa_human_solution(rec, refs) if refs is not None else None
        out.append(SourceRecord(f"strategyqa:{path.stem}:{i}", "strategyqa", rec["question"], plan, str(rec["answer"]), where, rec))
    return out


def musique_step_question(question: str, answers: list[str]) -> str:
    """A MuSiQue decomposition step as a question: ``#k`` -> the k-th answer; ``X >> relation`` ->
    ``What is the relation of X?``."""

    def sub(m: re.Match[str]) -> str:
        k = int(m.group(1))
        return answers[k - 1] if 0 < k <= len(answers) else m.group(0)

    question = re.sub(r"#(\d+)", sub, question).strip()
    if ">>" in question:
        subject, relation = (s.strip() for s in question.split(">>", 1))
        return f"What is the {relation} of {subject}?"
    return question


def musique_human_solution(rec: Mapping[str, Any]) -> str:
    """The pseudo plan of a MuSiQue question (byte for byte the original's spacing)."""
    paras = {p["idx"]: p for p in rec["paragraphs"]}
    text = "We find relevant facts: "
    for q in rec["question_decomposition"]:
        text += " " + paras[q["paragraph_support_idx"]]["paragraph_text"]
    text += " We need to answer these questions:"
    for i, q in enumerate(rec["question_decomposition"]):
        title = paras[q["paragraph_support_idx"]]["title"]
        text += f" {i + 1}. {q['question']} (Can be answered based on paragraph '{title}')"
    return text + f" {ANSWER_INTRO}{rec['answer']}."


def read_musique(path: Path) -> list[SourceRecord]:
    """MuSiQue jsonl: ``question``, ``answer``, ``paragraphs[{idx,title,paragraph_text}]``,
    ``question_decomposition[{question, answer, paragraph_support_idx}]``. A question is convertible when every
    step has a supporting paragraph (index 0 counts: the original's truthiness test dropped it)."""
    out = []
    for i, (line, rec) in enumerate(iter_jsonl(path)):
        where = _where(path, line)
        question = _str_field(rec, "question", where)
        answer = require_field(rec, "answer", where)
        paragraphs = require_field(rec, "paragraphs", where, list)
        steps = require_field(rec, "question_decomposition", where, list)
        idxs = set()
        for j, p in enumerate(paragraphs):
            if not isinstance(p, dict):
                raise DataFormatError(f"{where}: paragraphs[{j}] must be an object with idx, title, paragraph_text")
            for name in ("idx", "title", "paragraph_text"):
                require_field(p, name, f"{where}: paragraphs[{j}]")
            idxs.add(p["idx"])
        supported = True
        for j, step in enumerate(steps):
            if not isinstance(step, dict):
                raise DataFormatError(f"{where}: question_decomposition[{j}] must be an object")
            require_field(step, "question", f"{where}: question_decomposition[{j}]", str)
            support = step.get("paragraph_support_idx")
            if support is None:
                supported = False
            elif support not in idxs:
                raise DataFormatError(f"{where}: question_decomposition[{j}].paragraph_support_idx={support} names no paragraph")
        plan = musique_human_solution(rec) if supported and steps else None
        rid = rec.get("id") if isinstance(rec.get("id"), str) else f"musique:{path.stem}:{i}"
        out.append(SourceRecord(rid, "musique", question, plan, str(answer), where, rec))
    return out


# ----------------------------------------------------------------------------------------------------------------
# web agent, multimodal
# ----------------------------------------------------------------------------------------------------------------
def mind2web_files(path: Path) -> list[Path]:
    """A Mind2Web train file, or every ``*train_*`` json file of a directory (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if "train_" in p.name and p.suffix == ".json")
        if not files:
            raise DataFormatError(f"{path}: no Mind2Web train file (a name containing 'train_') in this folder")
        return files
    return [path]


def read_mind2web(path: Path) -> list[SourceRecord]:
    """Mind2Web train json lists: ``confirmed_task`` and ``action_reprs`` (``"[combobox]  From -> TYPE: ATLANTA"``)."""
    out = []
    for file in mind2web_files(path):
        data = read_json(file)
        if not isinstance(data, list):
            raise DataFormatError(f"{file}: expected a JSON list of Mind2Web tasks, got {type(data).__name__}")
        for i, rec in enumerate(data):
            where = f"{file}: task {i}"
            if not isinstance(rec, dict):
                raise DataFormatError(f"{where}: expected an object")
            task = require_field(rec, "confirmed_task", where, str)
            reprs = require_field(rec, "action_reprs", where, list)
            if not all(isinstance(r, str) for r in reprs):
                raise DataFormatError(f"{where}: field 'action_reprs' must be a list of strings")
            out.append(SourceRecord(f"mind2web:{file.stem}:{i}", "mind2web", task, reprs or None, None, where, rec))
    return out


def read_aokvqa(path: Path) -> list[SourceRecord]:
    """A-OKVQA json list: ``question``, ``choices``, ``correct_choice_idx``, ``rationales``, ``image_id``.
    Task = question + options; plan = the rationales and the answer."""
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a JSON list of A-OKVQA questions, got {type(data).__name__}")
    out = []
    for i, rec in enumerate(data):
        where = f"{path}: record {i}"
        if not isinstance(rec, dict):
            raise DataFormatError(f"{where}: expected an object")
        question = require_field(rec, "question", where, str)
        choices = require_field(rec, "choices", where, list)
        rationales = require_field(rec, "rationales", where, list)
        idx = rec.get("correct_choice_idx")
        ans = choices[idx] if isinstance(idx, int) and 0 <= idx < len(choices) else None
        task = f"{question} Options: {', '.join(map(str, choices))}." if choices else question
        plan = " ".join(map(str, rationales)) + (f" So the answer is {ans}." if ans is not None else "")
        rid = rec.get("question_id") if isinstance(rec.get("question_id"), str) else f"aokvqa:{path.stem}:{i}"
        out.append(SourceRecord(rid, "aokvqa", task, plan.strip() or None, ans, where, rec))
    return out


READERS: Mapping[str, Callable[[Path], list[SourceRecord]]] = {
    "gsm8k": read_gsm8k,
    "asdiv": read_asdiv,
    "prm800k": read_prm800k,
    "math": read_math,
    "strategyqa": read_strategyqa,
    "musique": read_musique,
    "mind2web": read_mind2web,
    "aokvqa": read_aokvqa,
}


def load_source(path: str | Path, source: str | None = None) -> list[SourceRecord]:
    """Read a raw file with the reader of ``source`` (detected from the name when None).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataFormatError: unknown source or malformed content (file, line, field).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"raw data file {path} does not exist")
    source = source or detect_source(path)
    if source not in READERS:
        raise DataFormatError(f"{path}: unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return READERS[source](path)
