"""``run_cli`` / ``cli_entry``: the project's own errors become one line and a non-zero status; bugs keep their traceback."""

from __future__ import annotations

import io

import pytest

from lumos.utils.cli import EXIT_INTERRUPTED, ReportedError, UsageError, cli_entry, error_line, run_cli
from lumos.utils.io import DataFormatError
from lumos.utils.lock import LockHeld, LockInfo


def _raiser(exc: BaseException):
    def main(argv=None):
        raise exc

    return main


@pytest.mark.parametrize(("exc", "status", "text"), [
    (DataFormatError("data.jsonl:3: missing field 'question'"), 2, "data.jsonl:3: missing field 'question'"),
    (UsageError("nothing selected"), 2, "nothing selected"),
    (FileNotFoundError(2, "No such file or directory", "data/x.jsonl"), 2, "No such file or directory: data/x.jsonl"),
    (LockHeld(__import__("pathlib").Path("out.json"), __import__("pathlib").Path("out.json.lock"),
              LockInfo(12, "node1", "2025-01-01T00:00:00+00:00", "python -m data.prompt_convertion")), 3,
     "out.json is being written by pid 12 on node1"),
    (ReportedError("first\nsecond"), 2, "first second"),
])  # fmt: skip
def test_reported_errors_are_one_line(exc, status, text):
    err = io.StringIO()
    assert run_cli(_raiser(exc), ["--x"], prog="python -m tool", stderr=err) == status
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m tool: error: ") and text in lines[0], lines


def test_bugs_keep_their_traceback():
    with pytest.raises(KeyError):
        run_cli(_raiser(KeyError("bug")), [])
    with pytest.raises(ValueError):  # a plain ValueError is not a data error
        run_cli(_raiser(ValueError("bug")), [])
    assert error_line(RuntimeError("x")) is None


def test_exit_statuses_pass_through_and_argparse_exits_untouched():
    assert run_cli(lambda argv=None: 1, []) == 1
    assert run_cli(lambda argv=None: None, []) == 0
    assert run_cli(lambda benchmark=None: {"n": 3, "benchmark": benchmark}, benchmark="gsm") == 0  # evaluate.main
    with pytest.raises(SystemExit):
        run_cli(_raiser(SystemExit(2)), [])
    err = io.StringIO()
    assert run_cli(_raiser(KeyboardInterrupt()), [], stderr=err) == EXIT_INTERRUPTED and err.getvalue() == "interrupted\n"


def test_cli_entry_decorator_passes_argv_and_keywords():
    seen = {}

    @cli_entry("prog")
    def main(argv=None, net=None):
        seen.update(argv=argv, net=net)
        if argv == ["bad"]:
            raise DataFormatError("f:1: bad")
        return 0

    assert main(["ok"], net="n") == 0 and seen == {"argv": ["ok"], "net": "n"}
    assert main(["bad"]) == 2
    assert main.__wrapped__ is not None
