"""What the command line shows a person: one-line errors with exit codes, warnings, notes.

Messages are a courtesy, never the work: like any Unix tool a stage runs with its stderr
closed (``2>&-``) or piped into a reader that has gone (``| head``), writes its outputs and
exits with the code its work earned; a message that cannot be delivered is dropped.
SIGTERM stops a stage as Ctrl-C does: partial files removed, exit 143.
"""

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from digitflow.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, DigitflowError, one_line

P = ParamSpec("P")
R = TypeVar("R")


class _StderrConsole(Console):
    def on_broken_pipe(self) -> None:
        """The reader has gone: later messages, and the flush at exit, go to /dev/null
        (rich's own handler exits 1, whatever the work's outcome)."""
        self.quiet = True
        _reopen_on_devnull(sys.stderr.fileno())


_stderr = _StderrConsole(stderr=True, highlight=False, soft_wrap=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: a KeyboardInterrupt, so that every cleanup Ctrl-C runs runs too."""


def note(message: str) -> None:
    """A plain progress or result line on stderr (keeps stdout for data)."""
    _stderr.print(message, markup=False)


def warn(message: str) -> None:
    _stderr.print(f"[yellow]warning:[/yellow] {_escape(message)}")


def error(message: str) -> None:
    _stderr.print(f"[bold red]error:[/bold red] {_escape(message)}")


def _reopen_on_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _ensure_standard_streams() -> None:
    """Give a closed stdin, stdout or stderr /dev/null: otherwise the next file opened takes
    its number and stray messages would land in an output."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            _reopen_on_devnull(fd)
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 (lives as long as we do)


def _terminate(signum, frame) -> None:
    raise Terminated()


def _escape(message: str) -> str:
    """One line (an OSError or a library may put newlines in a message), safe from markup."""
    return one_line(message).replace("[", r"\[")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`DigitflowError` raised by a stage into one line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _ensure_standard_streams()
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous_handler = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
        try:
            return command(*args, **kwargs)
        except DigitflowError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except Terminated:
            error("terminated; finished outputs are kept, partial files were removed")
            sys.exit(EXIT_TERMINATED)
        except KeyboardInterrupt:
            error("interrupted; finished outputs are kept, partial files were removed")
            sys.exit(EXIT_INTERRUPTED)
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous_handler)

    return wrapper
