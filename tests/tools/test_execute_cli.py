"""``python -m lumos.tools.execute``: one variable table across the lines, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lumos.tools.execute import main

REPO = Path(__file__).resolve().parents[2]


def test_maths_lines_share_one_table(capsys):
    code = main(["--domain", "maths", "R1 = Calculator(2 - 0.5)", "R2 = Calculator(R1 / 0.25); R3, R4 = SolveEquation(x + y = R2, x - y = 2)"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out == {"R1": "1.5", "R2": "6", "R3": "4", "R4": "2"}


def test_errors_are_listed_and_set_the_exit_status(capsys):
    code = main(["--domain", "maths", "R1 = Calculator(1 +)", "R2 = Nope(1)", "not an action"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and set(out["errors"]) == {"R1 = Calculator(1 +)", "R2 = Nope(1)", "not an action"}


def test_complex_qa_with_a_local_corpus(capsys, mini_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE_DIR", str(tmp_path))
    code = main(["--domain", "complex_qa", "--corpus", str(mini_corpus), "--retriever", "bm25",
                 "R1 = KnowledgeQuery(Georges Bizet); R2 = ParagraphRetrieve(R1, Query: Where was Bizet born?)"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["R1"] == ["Georges Bizet *** Georges Bizet was a French composer of the Romantic era. He was born in "
                         "Paris in 1838 and studied at the Conservatoire de Paris."]  # fmt: skip
    assert out["R2"].startswith("Evidence 1: Georges Bizet was a French composer")


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "lumos.tools.execute", "--domain", "maths", "R1 = Count(a, b, c)"],
                         capture_output=True, text=True, check=False, cwd=REPO)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"R1": "3"}
