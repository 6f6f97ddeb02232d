"""The error types a user can act on, and the exit codes the CLI maps them to."""

EXIT_FAILED = 1
"""A stage could not do its work (bad input, every source failed, a diverging run...)."""
EXIT_USAGE = 2
"""Typer/Click's own code for a bad command line; bad params share it."""


class DigitflowError(Exception):
    """An error the user can act on; the CLI prints ``str(error)`` as one line."""

    exit_code = EXIT_FAILED


class ParamsError(DigitflowError):
    """A params value is missing, unknown or out of range; the message names the key."""

    exit_code = EXIT_USAGE

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key} {problem}")
        self.key = key
