"""The error types a user can act on, and the exit codes the CLI maps them to."""

EXIT_FAILED = 1
"""A stage could not do its work (bad input, every source failed, a diverging run...)."""
EXIT_USAGE = 2
"""Typer/Click's own code for a bad command line; bad params share it."""
EXIT_SOME_FILES_FAILED = 3
"""predict-folder: the batch finished, but some files failed in this run (their rows say why)."""
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
"""Ctrl-C and SIGTERM: 128 + the signal's number, as shells report a process it stopped;
finished outputs are kept, partial files removed."""
EXIT_OUTPUT_INCOMPLETE = 4
"""Of outputs written together, a later one could not be replaced: the message names which
were written and which is stale (predict-folder: the CSV is new, the summary is not)."""


def one_line(text: str) -> str:
    """Collapse newlines and runs of spaces: an error message or a CSV cell stays one line."""
    return " ".join(text.split())


class DigitflowError(Exception):
    """An error the user can act on; the CLI prints ``str(error)`` as one line."""

    exit_code = EXIT_FAILED


class ParamsError(DigitflowError):
    """A params value is missing, unknown or out of range; the message names the key."""

    exit_code = EXIT_USAGE

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key} {problem}")
        self.key = key
