"""A byte that is not UTF-8 in any JSON / JSON-lines input gives a ``DataFormatError`` naming the file and line.

Covered: ``iter_jsonl`` / ``read_jsonl`` (conversion inputs and outputs, ``process_for_train``, the eval data),
``read_json`` (SVAMP, StrategyQA, HotpotQA files), ``read_text`` (ASDiv XML), and the data CLIs end to end
(one line on stderr, exit status 2, no traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lumos.benchmarks.gsm import load_examples
from lumos.conversion.sources import read_asdiv
from lumos.utils.io import DataFormatError, iter_jsonl, read_json, read_jsonl

REPO = Path(__file__).resolve().parents[2]
GOOD = {"question": "Janet has 3 apples. How many?", "answer": "3 apples <<3=3>>3\n#### 3"}


def _jsonl_with_bad_byte(path: Path, bad_line: int = 3, byte: bytes = b"\xff") -> Path:
    lines = [json.dumps(GOOD).encode() for _ in range(4)]
    lines[bad_line - 1] = lines[bad_line - 1].replace(b"Janet", b"Jan" + byte + b"t")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("byte", [b"\xff", b"\xe9", b"\xc3\x28", b"\xed\xa0\x80"])  # stray, latin-1, bad tail, surrogate
def test_iter_jsonl_names_file_line_and_byte(tmp_path, byte):
    path = _jsonl_with_bad_byte(tmp_path / "gsm8k_train.jsonl", 3, byte)
    with pytest.raises(DataFormatError, match=rf"{path.name}:3: not valid UTF-8 \(byte {byte[:1].hex()}"):
        list(iter_jsonl(path))
    with pytest.raises(DataFormatError, match=":3: not valid UTF-8"):
        load_examples(path)  # the GSM8K eval loader


def test_a_cut_multibyte_character_in_the_last_line_is_a_torn_tail(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"question": "caf\u00e9'.encode()[:-1])
    assert read_jsonl(path, skip_invalid_tail=True) == [GOOD]
    with pytest.raises(DataFormatError, match=":2: not valid UTF-8"):
        read_jsonl(path)


def test_read_json_names_file_and_line(tmp_path):
    path = tmp_path / "SVAMP.json"
    path.write_bytes(b'[\n {"Body": "a"},\n {"Body": "b\xfe"}\n]\n')
    with pytest.raises(DataFormatError, match=r"SVAMP.json:3: not valid UTF-8 \(byte fe at column 13\)"):
        read_json(path)


def test_asdiv_xml_names_file_and_line(tmp_path):
    path = tmp_path / "ASDiv.xml"
    path.write_bytes(b"<Machine-Reading-Corpus-File>\n<ProblemSet>\n<Problem ID='x'><Body>caf\xe9</Body>\n")
    with pytest.raises(DataFormatError, match=r"ASDiv.xml:3: not valid UTF-8"):
        read_asdiv(path)


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=REPO, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)  # fmt: skip


def _one_error_line(out: subprocess.CompletedProcess, prog: str) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith(f"{prog}: error: ")]
    assert len(errors) == 1, out.stderr
    return errors[0]


def test_prompt_convertion_cli_reports_a_bad_byte_in_one_line(tmp_path):
    path = _jsonl_with_bad_byte(tmp_path / "gsm8k_train.jsonl", 2)
    out = _run("data.prompt_convertion", "--domain", "maths", "--data_fn", str(path), "--backend", "rule",
               "--convert_all", "--output", str(tmp_path / "out.json"))  # fmt: skip
    assert out.returncode == 2
    line = _one_error_line(out, "python -m data.prompt_convertion")
    assert f"{path}:2: not valid UTF-8 (byte ff" in line


def test_process_for_train_cli_reports_a_bad_byte_in_one_line(tmp_path):
    conv = tmp_path / "train" / "maths" / "converted"
    conv.mkdir(parents=True)
    rec = {"id": "a", "task": "t", "subgoal_plan": "Subgoal 1: Add.\nAction 1-1: R1 = Calculator(1 + 1) = 2"}
    (conv / "x_converted.json").write_bytes(json.dumps(rec).encode() + b"\n" + json.dumps(rec).encode()[:-2] + b'\x80"}\n')
    out = _run("data.process_for_train", "--domain", "maths", "--data_root", str(tmp_path / "train"))
    assert out.returncode == 2
    assert f"{conv / 'x_converted.json'}:2: not valid UTF-8 (byte 80" in _one_error_line(out, "python -m data.process_for_train")


def test_a_missing_input_file_is_one_line(tmp_path):
    out = _run("data.prompt_convertion", "--domain", "maths", "--data_fn", str(tmp_path / "gsm8k_nothere.jsonl"),
               "--backend", "rule", "--convert_all", "--output", str(tmp_path / "o.json"))  # fmt: skip
    assert out.returncode == 2
    assert "gsm8k_nothere.jsonl" in _one_error_line(out, "python -m data.prompt_convertion")
