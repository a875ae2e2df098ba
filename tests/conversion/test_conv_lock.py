"""Two ``python -m data.prompt_convertion`` on one ``--output``: the second refuses at once, naming the first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lumos.utils.lock import lock_path_for

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "conversion"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def convert(output: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data.prompt_convertion", "--domain", "maths", "--data_fn",
                           str(FIXTURES / "gsm8k_train.jsonl"), "--backend", "rule", "--convert_all", "--output",
                           str(output)], capture_output=True, text=True, cwd=REPO, env=ENV, timeout=120, check=False)  # fmt: skip


def test_a_second_conversion_on_one_output_refuses(tmp_path):
    output = tmp_path / "gsm8k_train_converted.json"
    # The first conversion is paused inside its run, holding the output (the rule backend is too fast to race).
    first = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from lumos.conversion import convert as c\n"
        "real = c.run_rule\n"
        "def slow(*a, **k):\n"
        "    print('running', flush=True); time.sleep(60); return real(*a, **k)\n"
        "c.run_rule = slow\n"
        "sys.exit(c.main(sys.argv[1:]))\n"),
        "--domain", "maths", "--data_fn", str(FIXTURES / "gsm8k_train.jsonl"), "--backend", "rule", "--convert_all",
        "--output", str(output)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, env=ENV)  # fmt: skip
    try:
        assert first.stdout is not None and first.stdout.readline() == "running\n"
        second = convert(output)
        assert second.returncode == 3, second.stderr
        errors = [line for line in second.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and f"pid {first.pid}" in errors[0] and str(output) in errors[0], second.stderr
        assert "Traceback" not in second.stderr
        assert not output.exists() or output.read_text() == ""  # the second wrote nothing
    finally:
        first.kill()
        first.wait()
    # the killed holder left its lock file behind; it blocks nobody
    assert lock_path_for(output).exists()
    third = convert(output)
    assert third.returncode == 0, third.stderr
    assert output.read_text().count("\n") > 0 and not lock_path_for(output).exists()
