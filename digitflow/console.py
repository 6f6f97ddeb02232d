"""What the command line shows a person: one-line errors with exit codes, warnings, notes."""

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from digitflow.errors import DigitflowError, one_line

P = ParamSpec("P")
R = TypeVar("R")

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """A plain progress or result line on stderr (keeps stdout for data)."""
    _stderr.print(message, markup=False)


def warn(message: str) -> None:
    _stderr.print(f"[yellow]warning:[/yellow] {_escape(message)}")


def error(message: str) -> None:
    _stderr.print(f"[bold red]error:[/bold red] {_escape(message)}")


def _escape(message: str) -> str:
    """One line (an OSError or a library may put newlines in a message), safe from markup."""
    return one_line(message).replace("[", r"\[")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`DigitflowError` raised by a stage into one line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DigitflowError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted; finished outputs are kept, partial files were removed")
            sys.exit(130)

    return wrapper
