"""Optional parts of digitflow (a Dask cluster, cloud storage): imported where they are used,
with a one-line error naming the extra to install when they are missing."""

import importlib
from types import ModuleType

from digitflow.errors import DigitflowError


class MissingExtra(DigitflowError):
    """A feature needs a package that the default install leaves out."""


def import_extra(module: str, extra: str, feature: str) -> ModuleType:
    """``import module``, or raise :class:`MissingExtra` saying which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{feature} needs the {extra} extra: pip install 'digitflow[{extra}]'"
        ) from None
