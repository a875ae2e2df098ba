"""How every command ends: the project's own errors as one line on stderr, real bugs with a traceback.

The errors a user can fix are ``ReportedError`` subclasses (``DataFormatError`` for bad input data,
``UsageError`` for arguments that cannot work together, ``LockHeld`` for an output another run is
writing, ``CacheError`` for a broken tool cache) plus a missing input file (``FileNotFoundError``).
``run_cli`` turns them into one line and a non-zero exit status; anything else propagates with its
traceback, because it is a bug. For example::

    $ python -m data.prompt_convertion --domain maths --data_fn bad.jsonl --backend rule --convert_all
    python -m data.prompt_convertion: error: bad.jsonl:3: not valid UTF-8 (byte ff at column 12); re-encode the file as UTF-8
    $ echo $?
    2

Use: ``sys.exit(run_cli(main))`` in a ``__main__`` block, or decorate the entry point with ``@cli_entry``
(then ``main(argv)`` itself returns the exit status, which keeps tests that call it simple).

Exercise: ``pytest tests/utils/test_run_cli.py``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

EXIT_REPORTED = 2
EXIT_INTERRUPTED = 130


class ReportedError(Exception):
    """An error whose message is all the user needs (it names the file, line, field or holder): printed
    as one line by ``run_cli``, which exits with ``exit_code``."""

    exit_code: int = EXIT_REPORTED


class UsageError(ReportedError, ValueError):
    """Arguments that cannot work together, or a value outside its choices."""


def error_line(exc: BaseException, prog: str | None = None) -> str | None:
    """The one line ``run_cli`` prints for ``exc``, or None when ``exc`` is a bug (not reported, re-raised)."""
    if isinstance(exc, ReportedError):
        message = str(exc)
    elif isinstance(exc, FileNotFoundError):
        message = f"{exc.strerror or 'no such file'}: {exc.filename}" if exc.filename else str(exc)
    else:
        return None
    message = " ".join(message.split("\n")).strip() or type(exc).__name__
    return f"{prog}: error: {message}" if prog else f"error: {message}"


def exit_status(exc: BaseException) -> int:
    return getattr(exc, "exit_code", EXIT_REPORTED) if isinstance(exc, ReportedError) else EXIT_REPORTED


def run_cli(main: Callable[..., int | None], argv: Sequence[str] | None = None, *, prog: str | None = None,
            stderr: TextIO | None = None, **kwargs: Any) -> int:  # fmt: skip
    """Call ``main(argv, **kwargs)`` (``main(**kwargs)`` when ``argv`` is None) and return its exit status
    (``main``'s int, else 0).

    ``ReportedError`` and ``FileNotFoundError`` become one line on stderr (``<prog>: error: <message>``) and
    status ``exit_code`` (2 unless the class says otherwise); Ctrl-C becomes ``interrupted`` and 130;
    ``SystemExit`` (argparse) passes through; every other exception propagates with its traceback.
    """
    out = stderr if stderr is not None else sys.stderr
    try:
        status = main(argv, **kwargs) if argv is not None else main(**kwargs)
    except (ReportedError, FileNotFoundError) as e:
        line = error_line(e, prog)
        out.write(f"{line}\n")
        out.flush()
        return exit_status(e)
    except KeyboardInterrupt:
        out.write(f"{prog + ': ' if prog else ''}interrupted\n")
        return EXIT_INTERRUPTED
    return status if isinstance(status, int) else 0  # None, or a result object (e.g. the metrics dict)


def cli_entry(prog: str | None = None) -> Callable[[Callable[..., int | None]], Callable[..., int]]:
    """Decorator form of ``run_cli``: ``@cli_entry("python -m data.process_for_train") def main(argv=None): ...``."""

    def wrap(main: Callable[..., int | None]) -> Callable[..., int]:
        @functools.wraps(main)
        def entry(argv: Sequence[str] | None = None, **kwargs: Any) -> int:
            return run_cli(main, argv, prog=prog, **kwargs)

        entry.__wrapped__ = main  # type: ignore[attr-defined]
        return entry

    return wrap
